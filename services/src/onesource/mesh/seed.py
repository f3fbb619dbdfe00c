"""Demo data the local mesh seeds through the gateway's public API.

Departments and their clients, the registries' catalog resources, and synthetic records.
Seeding is idempotent: existing departments are kept, existing clients get a rotated secret so the mesh
can print a working one. Demo people (who sign in to the portal) get passwords derived from the admin secret, so
``mesh.json`` can list them without the mesh keeping another secret; existing people get theirs set again.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from onesource.registry.directory import DemoBatch, PlatformReader, Registry, ShareRequest, registries

__all__ = [
    "DEMO_CLIENTS",
    "DEMO_DEPARTMENTS",
    "DEMO_PEOPLE",
    "ClientSeed",
    "DemoClient",
    "DepartmentSeed",
    "PersonSeed",
    "SeedError",
    "catalog_seed_steps",
    "client_secret_file",
    "client_token",
    "demo_password",
    "demo_users",
    "platform_seed_steps",
    "record_seed_steps",
    "seed_catalog",
    "seed_demo",
    "seed_platform",
    "seed_records",
    "seed_steps",
    "seed_subscriptions",
]


@dataclass(frozen=True, slots=True)
class DepartmentSeed:
    """A demo department: short code, name and USCC."""

    code: str
    name: str
    uscc: str
    role: str
    """What the department does in the demo (documentation only)."""


@dataclass(frozen=True, slots=True)
class ClientSeed:
    """A demo client system of a department."""

    client_id: str
    department: str
    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoClient:
    """A seeded client with the secret the gateway issued for it, as written to `mesh.json`."""

    client_id: str
    client_secret: str
    department: str
    roles: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The `mesh.json` shape."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "department": self.department,
            "roles": list(self.roles),
        }


# USCC layout (GB 32100-2015): registration department '1' (机构编制) + category '1' (机关) + region 110000
# + 9-character organisation code (GB 11714, its own check digit last) + check character.
DEMO_DEPARTMENTS: tuple[DepartmentSeed, ...] = (
    DepartmentSeed("psb", "公安局", "11110000000011017C", "owns population data"),
    DepartmentSeed("amr", "市场监督管理局", "111100000000110257", "owns legal-entity data"),
    DepartmentSeed("nrb", "自然资源局", "111100000000110332", "owns geo data"),
    DepartmentSeed("stats", "统计局", "11110000000011041W", "owns macroeconomic data"),
    DepartmentSeed("bdb", "大数据管理局", "1111000000001105XL", "coordinates share requests"),
    DepartmentSeed("mca", "民政局", "11110000000011068L", "consumes shared data"),
)

DEMO_CLIENTS: tuple[ClientSeed, ...] = (
    ClientSeed("psb-registrar", "psb", "公安局人口登记系统", ("registrar",)),
    ClientSeed("psb-steward", "psb", "公安局数据管理员", ("steward",)),
    ClientSeed("amr-registrar", "amr", "市场监管登记系统", ("registrar",)),
    ClientSeed("amr-steward", "amr", "市场监管数据管理员", ("steward",)),
    ClientSeed("nrb-registrar", "nrb", "自然资源登记系统", ("registrar",)),
    ClientSeed("nrb-steward", "nrb", "自然资源数据管理员", ("steward",)),
    ClientSeed("stats-registrar", "stats", "统计数据登记系统", ("registrar",)),
    ClientSeed("stats-steward", "stats", "统计数据管理员", ("steward",)),
    ClientSeed("bdb-coordinator", "bdb", "大数据局共享协调", ("coordinator",)),
    ClientSeed("mca-app", "mca", "民政业务系统", ("consumer",)),
)


@dataclass(frozen=True, slots=True)
class PersonSeed:
    """A demo person who signs in to the portal."""

    username: str
    department: str
    name: str
    roles: tuple[str, ...]


#: One person per demo role and department: the people who run the demo in the portal.
DEMO_PEOPLE: tuple[PersonSeed, ...] = (
    PersonSeed("psb.steward", "psb", "公安局数据管理员 张伟", ("steward",)),
    PersonSeed("amr.steward", "amr", "市场监管数据管理员 王芳", ("steward",)),
    PersonSeed("nrb.steward", "nrb", "自然资源数据管理员 李强", ("steward",)),
    PersonSeed("stats.steward", "stats", "统计数据管理员 刘洋", ("steward",)),
    PersonSeed("bdb.coordinator", "bdb", "大数据局共享协调员 陈静", ("coordinator",)),
    PersonSeed("mca.consumer", "mca", "民政局业务人员 杨帆", ("consumer",)),
    PersonSeed("platform.admin", "platform", "平台管理员 赵敏", ("admin",)),
)


def demo_password(admin_secret: str, username: str) -> str:
    """A demo person's password: derived from the mesh's admin secret, so it is known without being stored."""
    digest = hmac.new(admin_secret.encode(), f"demo-person:{username}".encode(), hashlib.sha256).hexdigest()
    return f"demo-{digest[:16]}"


def demo_users(admin_secret: str, people: Sequence[PersonSeed] = DEMO_PEOPLE) -> list[dict[str, Any]]:
    """The demo people as `mesh.json` lists them (`demo_users`)."""
    return [
        {
            "username": person.username,
            "password": demo_password(admin_secret, person.username),
            "department": person.department,
            "roles": list(person.roles),
        }
        for person in people
    ]


class SeedError(RuntimeError):
    """The gateway answered a seeding call with something unexpected."""

    def __init__(self, action: str, response: httpx.Response) -> None:
        self.status_code = response.status_code
        super().__init__(f"{action}: HTTP {response.status_code} {response.text[:500]}")


def seed_steps() -> int:
    """How many progress steps `seed_demo` reports (for a progress bar)."""
    return 1 + len(DEMO_DEPARTMENTS) + len(DEMO_CLIENTS) + len(DEMO_PEOPLE)


def seed_demo(
    gateway: httpx.Client,
    admin_secret: str,
    report: Callable[[str], None] = lambda step: None,
    departments: Sequence[DepartmentSeed] = DEMO_DEPARTMENTS,
    clients: Sequence[ClientSeed] = DEMO_CLIENTS,
    people: Sequence[PersonSeed] = DEMO_PEOPLE,
) -> list[DemoClient]:
    """Seed departments and clients through `gateway` (base URL set) and return the clients with their secrets.

    `report` is called once per finished step with a short description.
    """
    token = _admin_token(gateway, admin_secret)
    gateway.headers["Authorization"] = f"Bearer {token}"
    report("admin token")
    for department in departments:
        outcome = _ensure_department(gateway, department)
        report(f"department {department.code} {outcome}")
    seeded: list[DemoClient] = []
    for client in clients:
        demo, outcome = _ensure_client(gateway, client)
        seeded.append(demo)
        report(f"client {client.client_id} {outcome}")
    for person in people:
        outcome = _ensure_person(gateway, person, demo_password(admin_secret, person.username))
        report(f"person {person.username} {outcome}")
    return seeded


def _admin_token(gateway: httpx.Client, admin_secret: str) -> str:
    response = gateway.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "admin", "client_secret": admin_secret},
    )
    if response.status_code != 200:
        raise SeedError("admin token", response)
    token: str = response.json()["access_token"]
    return token


def _ensure_department(gateway: httpx.Client, department: DepartmentSeed) -> str:
    response = gateway.post(
        "/api/identity/v1/departments",
        json={"code": department.code, "name": department.name, "uscc": department.uscc},
    )
    if response.status_code == 201:
        return "created"
    if response.status_code == 409:
        return "exists"
    raise SeedError(f"create department {department.code}", response)


def _ensure_client(gateway: httpx.Client, client: ClientSeed) -> tuple[DemoClient, str]:
    response = gateway.post(
        "/api/identity/v1/clients",
        json={
            "client_id": client.client_id,
            "department": client.department,
            "name": client.name,
            "roles": list(client.roles),
        },
    )
    outcome = "created"
    if response.status_code == 409:
        # Secrets are stored hashed, so an existing client's secret can only be learnt by rotating it.
        response = gateway.post(f"/api/identity/v1/clients/{client.client_id}/secret")
        outcome = "exists, secret rotated"
        if response.status_code != 200:
            raise SeedError(f"rotate secret of client {client.client_id}", response)
    elif response.status_code != 201:
        raise SeedError(f"create client {client.client_id}", response)
    secret: str = response.json()["client_secret"]
    return DemoClient(client.client_id, secret, client.department, client.roles), outcome


def _ensure_person(gateway: httpx.Client, person: PersonSeed, password: str) -> str:
    response = gateway.post(
        "/api/identity/v1/people",
        json={
            "username": person.username,
            "department": person.department,
            "name": person.name,
            "roles": list(person.roles),
            "password": password,
        },
    )
    if response.status_code == 201:
        return "created"
    if response.status_code != 409:
        raise SeedError(f"create person {person.username}", response)
    # The admin secret (and so the derived password) may have changed since: set it again.
    reset = gateway.post(f"/api/identity/v1/people/{person.username}/password", json={"password": password})
    if reset.status_code != 200:
        raise SeedError(f"reset password of person {person.username}", reset)
    return "exists, password set"


def client_token(gateway: httpx.Client, client: DemoClient) -> str:
    """An access token of a seeded client."""
    # HTTP Basic (RFC 6749 §2.3.1) replaces the admin's bearer header that the seeding client carries by default.
    response = gateway.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.client_id, client.client_secret)
    )
    if response.status_code != 200:
        raise SeedError(f"token of {client.client_id}", response)
    token: str = response.json()["access_token"]
    return token


def record_seed_steps(found: Sequence[Registry] | None = None) -> int:
    """How many progress steps `seed_records` reports."""
    return sum(
        1
        for registry in (registries() if found is None else found)
        if registry.demo is not None or registry.platform_demo is not None
    )


def _demo_batches(
    gateway: httpx.Client, registry: Registry, clients: Mapping[str, DemoClient], seed: int
) -> Iterator[DemoBatch]:
    if registry.demo is not None:
        return registry.demo(seed)
    assert registry.platform_demo is not None
    assert registry.client is not None
    return registry.platform_demo(seed, _reader(gateway, clients[registry.client.client_id]))


def _reader(gateway: httpx.Client, client: DemoClient) -> PlatformReader:
    """Reads through the gateway as ``client`` (a registry's own client, under its grants)."""
    token = client_token(gateway, client)

    def read(path: str, *, purpose: str, params: Mapping[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}", "X-OneSource-Purpose": quote(purpose, safe="")}
        # the registry's grant was just issued: the gateway learns of it from the exchange's events (403 until then)
        response = _when_covered(gateway, path, headers, params=params, also_waiting_for=frozenset({"no-grant"}))
        return response.json()

    return read


def seed_records(
    gateway: httpx.Client,
    clients: Mapping[str, DemoClient],
    report: Callable[[str], None] = lambda step: None,
    *,
    found: Sequence[Registry] | None = None,
    seed: int = 20261122,
) -> dict[str, int]:
    """Register each registry's synthetic records, as a registrar of its owner; how many, by registry.

    Registries whose demo records are made from other registries' (``platform_demo``) come after the others. A
    registry that already holds records is skipped (0), so a restarted mesh keeps its data as it was.
    """
    registered: dict[str, int] = {}
    ordered = sorted(registries() if found is None else found, key=lambda registry: registry.demo is None)
    for registry in ordered:
        if registry.demo is None and registry.platform_demo is None:
            continue
        registrar = clients[f"{registry.owner}-registrar"]
        headers = {"Authorization": f"Bearer {client_token(gateway, registrar)}", "X-OneSource-Purpose": SEED_PURPOSE}
        if registry.seeded_probe is not None:
            existing = _when_covered(gateway, f"/api/{registry.service}{registry.seeded_probe}", headers)
            if existing.json()["items"]:
                registered[registry.service] = 0
                report(f"{registry.service}: records already registered")
                continue
        count = 0
        for batch in _demo_batches(gateway, registry, clients, seed):
            response = _post_batch(gateway, f"/api/{registry.service}{batch.path}", batch, headers)
            if response.status_code != 201:
                raise SeedError(f"register {registry.service} demo records", response)
            count += batch.records
        registered[registry.service] = count
        report(f"{registry.service}: {count:,} records registered")
    return registered


def _post_batch(
    gateway: httpx.Client, path: str, batch: DemoBatch, headers: dict[str, str], *, timeout: float = 60.0
) -> httpx.Response:
    """POST a demo batch (chunked); again while the registry answers 503 ``dependency-unavailable``.

    A registry that checks its records against another registry through the gateway cannot do so until the gateway
    has learnt of its grant (from the exchange's events, a moment after the grant is issued); until then it answers
    503 and imports nothing, so sending the batch again is safe.
    """
    deadline = time.monotonic() + timeout
    while True:
        response = gateway.post(
            path, content=_chunked(batch.content), headers={**headers, "Content-Type": batch.media_type}, timeout=600.0
        )
        waiting = response.status_code == 503 and _problem(response) == "dependency-unavailable"
        if not waiting or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def _chunked(content: bytes, size: int = 1 << 16) -> Iterator[bytes]:
    """``content`` sent in chunks, which the gateway streams to the registry as an upload.

    An upload gets the upload's time (``…_UPLOAD_TIMEOUT_SECONDS``), where a small whole body gets a data call's
    (``…_UPSTREAM_TIMEOUT_SECONDS``): a registry that checks each record with another registry may need more than
    that on a busy machine.
    """
    for start in range(0, len(content), size):
        yield content[start : start + size]


def _problem(response: httpx.Response) -> str:
    return str(response.json().get("type", "")).rsplit("/", 1)[-1] if _is_json(response) else ""


#: The purpose the seeding registrar states on its data calls (the gateway requires one on every data call).
SEED_PURPOSE = "demo-seed"


def _when_covered(
    gateway: httpx.Client,
    path: str,
    headers: dict[str, str],
    *,
    params: Mapping[str, Any] | None = None,
    also_waiting_for: frozenset[str] = frozenset(),
    timeout: float = 60.0,
) -> httpx.Response:
    """``GET path`` once the gateway knows the catalog resources that cover it.

    The gateway learns published resources from catalog events, so right after ``seed_catalog`` it may still
    answer 503 ``grants-unknown`` (catching up) or 404 ``not-covered`` (the event is on its way).
    """
    deadline = time.monotonic() + timeout
    while True:
        response = gateway.get(path, params=params or {"limit": 1}, headers=headers)
        if response.status_code == 200:
            return response
        waiting = response.status_code in {503, 404, 403} and _problem(response) in {
            "grants-unknown",
            "not-covered",
            *also_waiting_for,
        }
        if not waiting or time.monotonic() > deadline:
            raise SeedError(f"GET {path}", response)
        time.sleep(0.25)


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "")


def catalog_seed_steps(found: Sequence[Registry] | None = None) -> int:
    """How many progress steps `seed_catalog` reports."""
    return 1 + sum(len(registry.resources("")) for registry in (registries() if found is None else found))


def seed_catalog(
    gateway: httpx.Client,
    clients: Mapping[str, DemoClient],
    report: Callable[[str], None] = lambda step: None,
    *,
    found: Sequence[Registry] | None = None,
) -> None:
    """Assign every installed registry its owner, then register and publish its resources as the owner's steward.

    Owners are assigned as the admin (whose token `gateway` carries since `seed_demo`): stewards cannot change
    who owns a registry, and the catalog refuses a resource over a registry its provider does not own.
    """
    found = registries() if found is None else found
    for registry in found:
        assigned = gateway.put(f"/api/catalog/v1/registries/{registry.service}", json={"owner": registry.owner})
        if assigned.status_code not in {200, 201}:
            raise SeedError(f"assign registry {registry.service} to {registry.owner}", assigned)
    report("registries assigned their owners")
    for registry in found:
        steward = clients[f"{registry.owner}-steward"]
        headers = {"Authorization": f"Bearer {client_token(gateway, steward)}"}
        for resource in registry.resources(steward.department):
            created = _register_resource(gateway, resource, headers)
            if created.status_code not in {201, 409}:
                raise SeedError(f"register resource {resource['id']}", created)
            current = gateway.get(f"/api/catalog/v1/resources/{resource['id']}", headers=headers)
            if current.status_code != 200:
                raise SeedError(f"read resource {resource['id']}", current)
            if current.json()["status"] == "draft":
                published = gateway.post(f"/api/catalog/v1/resources/{resource['id']}/publish", headers=headers)
                if published.status_code != 200:
                    raise SeedError(f"publish resource {resource['id']}", published)
            report(f"resource {resource['id']} published")


def _register_resource(
    gateway: httpx.Client, resource: Mapping[str, Any], headers: dict[str, str], *, timeout: float = 60.0
) -> httpx.Response:
    """``POST`` a resource once the catalog knows its provider.

    The catalog learns departments from the gateway's events, so right after ``seed_demo`` it may still answer
    409 ``unknown-provider`` (the event is on its way).
    """
    deadline = time.monotonic() + timeout
    while True:
        created = gateway.post("/api/catalog/v1/resources", json=resource, headers=headers)
        if _problem(created) != "unknown-provider" or time.monotonic() > deadline:
            return created
        time.sleep(0.25)


def platform_seed_steps(found: Sequence[Registry] | None = None) -> int:
    """How many progress steps `seed_platform` reports."""
    return sum(
        1 + len(registry.share_requests) + len(registry.subscriptions)
        for registry in (registries() if found is None else found)
        if registry.client is not None
    )


def client_secret_file(secrets_dir: Path, service: str) -> Path:
    """Where the mesh keeps the secret of a registry's own platform client (the registry reads it from there)."""
    return secrets_dir / f"{service}.client-secret"


def seed_platform(
    gateway: httpx.Client,
    secrets_dir: Path,
    report: Callable[[str], None] = lambda step: None,
    *,
    found: Sequence[Registry] | None = None,
) -> list[DemoClient]:
    """What registries need from the platform: their own clients and the shares they ask for.

    For each registry that declares a client: the client is created in the registry's owning department (or its
    secret rotated), and its secret written to `client_secret_file` for the registry to read; then, as that client,
    each share request is made unless a grant with its purpose is active already. `gateway` carries the admin's
    token (`seed_demo`). Returns the clients with their secrets. Their subscriptions: `seed_subscriptions`.
    """
    seeded: list[DemoClient] = []
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for registry in registries() if found is None else found:
        if registry.client is None:
            continue
        declared = registry.client
        client, outcome = _ensure_client(
            gateway, ClientSeed(declared.client_id, registry.owner, declared.name, declared.roles)
        )
        _write_secret(client_secret_file(secrets_dir, registry.service), client.client_secret)
        seeded.append(client)
        report(f"client {client.client_id} {outcome}")
        headers = {"Authorization": f"Bearer {client_token(gateway, client)}"}
        for share in registry.share_requests:
            report(f"{client.client_id}: {share.resource} {_ensure_share(gateway, headers, share)}")
    return seeded


def seed_subscriptions(
    gateway: httpx.Client,
    clients: Mapping[str, DemoClient],
    report: Callable[[str], None] = lambda step: None,
    *,
    found: Sequence[Registry] | None = None,
) -> None:
    """The subscriptions registries declare, made by their own clients (`seed_platform`) unless they exist.

    The mesh makes them after the demo records: a subscription delivers the changes made from its creation on, and
    the demo records' registrations are no news to anyone.
    """
    for registry in registries() if found is None else found:
        if registry.client is None or not registry.subscriptions:
            continue
        client = clients[registry.client.client_id]
        headers = {"Authorization": f"Bearer {client_token(gateway, client)}"}
        for resource in registry.subscriptions:
            report(f"{client.client_id}: subscription to {resource} {_ensure_subscription(gateway, headers, resource)}")


def _write_secret(path: Path, secret: str) -> None:
    """Write a client secret readable by its owner only, replacing the old one at once."""
    partial = path.with_suffix(".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secret + "\n")
    partial.replace(path)


def _ensure_share(gateway: httpx.Client, headers: dict[str, str], share: ShareRequest) -> str:
    held = gateway.get(
        "/api/exchange/v1/grants", params={"resource": share.resource, "status": "active"}, headers=headers
    )
    if held.status_code != 200:
        raise SeedError(f"list grants on {share.resource}", held)
    if any(grant["purpose"] == share.purpose for grant in held.json()["items"]):
        return "granted already"
    asked = gateway.post(
        "/api/exchange/v1/share-requests",
        json={
            "resource": share.resource,
            "fields": list(share.fields),
            "purpose": share.purpose,
            "legal_basis": share.legal_basis,
        },
        headers=headers,
    )
    if asked.status_code != 201:
        raise SeedError(f"ask for a share of {share.resource}", asked)
    status: str = asked.json()["status"]
    return status


def _ensure_subscription(gateway: httpx.Client, headers: dict[str, str], resource: str) -> str:
    created = gateway.post(
        "/api/exchange/v1/subscriptions", json={"resource": resource, "delivery": "kafka"}, headers=headers
    )
    if created.status_code == 201:
        return "created"
    if created.status_code == 409 and _problem(created) == "duplicate-subscription":
        return "exists"
    raise SeedError(f"subscribe to {resource}", created)
