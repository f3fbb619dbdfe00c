"""Demo data the local mesh seeds through the gateway's public API.

Departments and their clients, the registries' catalog resources, and synthetic records.
Seeding is idempotent: existing departments are kept, existing clients get a rotated secret so the mesh
can print a working one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "DEMO_CLIENTS",
    "DEMO_DEPARTMENTS",
    "DEMO_REGISTRY_OWNERS",
    "ClientSeed",
    "DemoClient",
    "DepartmentSeed",
    "SeedError",
    "catalog_seed_steps",
    "client_token",
    "person_seed_steps",
    "seed_catalog",
    "seed_demo",
    "seed_persons",
    "seed_steps",
    "uscc_check_character",
    "uscc_is_valid",
]

# GB 32100-2015 §4: the code alphabet (no I, O, S, V, Z) and the weights of positions 1-17.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_character(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a unified social credit code."""
    if len(first17) != 17 or any(char not in _USCC_ALPHABET for char in first17):
        raise ValueError(f"not 17 characters of the USCC alphabet: {first17!r}")
    total = sum(_USCC_ALPHABET.index(char) * weight for char, weight in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    """Return True for an 18-character unified social credit code with a correct check character."""
    return len(code) == 18 and code[-1] in _USCC_ALPHABET and _safe_check(code[:17]) == code[-1]


def _safe_check(first17: str) -> str | None:
    try:
        return uscc_check_character(first17)
    except ValueError:
        return None


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


class SeedError(RuntimeError):
    """The gateway answered a seeding call with something unexpected."""

    def __init__(self, action: str, response: httpx.Response) -> None:
        self.status_code = response.status_code
        super().__init__(f"{action}: HTTP {response.status_code} {response.text[:500]}")


def seed_steps() -> int:
    """How many progress steps `seed_demo` reports (for a progress bar)."""
    return 1 + len(DEMO_DEPARTMENTS) + len(DEMO_CLIENTS)


def seed_demo(
    gateway: httpx.Client,
    admin_secret: str,
    report: Callable[[str], None] = lambda step: None,
    departments: Sequence[DepartmentSeed] = DEMO_DEPARTMENTS,
    clients: Sequence[ClientSeed] = DEMO_CLIENTS,
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


#: Synthetic persons the local mesh registers (in imports of ``PERSONS_PER_IMPORT`` rows each).
DEMO_PERSONS = 3000
PERSONS_PER_IMPORT = 1000


def person_seed_steps(count: int = DEMO_PERSONS) -> int:
    """How many progress steps `seed_persons` reports."""
    return -(-count // PERSONS_PER_IMPORT)


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


def seed_persons(
    gateway: httpx.Client,
    registrar: DemoClient,
    report: Callable[[str], None] = lambda step: None,
    count: int = DEMO_PERSONS,
    seed: int = 20261122,
) -> int:
    """Register ``count`` synthetic persons through the population registry's bulk import; returns how many.

    Skipped (0) when the registry already holds persons, so a restarted mesh keeps its data as it was.
    """
    # The mesh launches every service, so their packages are installed with it; only the seed needs this one.
    from onesource.population.synthetic import PersonFactory, to_csv

    headers = {"Authorization": f"Bearer {client_token(gateway, registrar)}", "X-OneSource-Purpose": SEED_PURPOSE}
    existing = _when_covered(gateway, "/api/population/v1/persons", headers)
    if existing.json()["items"]:
        for _ in range(person_seed_steps(count)):
            report("persons already registered")
        return 0
    factory = PersonFactory(seed)
    imported = 0
    for start in range(0, count, PERSONS_PER_IMPORT):
        batch = list(factory.persons(min(PERSONS_PER_IMPORT, count - start)))
        response = gateway.post(
            "/api/population/v1/imports",
            content=b"".join(to_csv(batch)),
            headers={**headers, "Content-Type": "text/csv"},
            timeout=120.0,
        )
        if response.status_code != 201:
            raise SeedError("import persons", response)
        imported += response.json()["accepted"]
        report(f"{imported:,} persons imported")
    return imported


#: The purpose the seeding registrar states on its data calls (the gateway requires one on every data call).
SEED_PURPOSE = "demo-seed"


def _when_covered(
    gateway: httpx.Client, path: str, headers: dict[str, str], *, timeout: float = 60.0
) -> httpx.Response:
    """``GET path`` once the gateway knows the catalog resources that cover it.

    The gateway learns published resources from catalog events, so right after ``seed_catalog`` it may still
    answer 503 ``grants-unknown`` (catching up) or 404 ``not-covered`` (the event is on its way).
    """
    deadline = time.monotonic() + timeout
    while True:
        response = gateway.get(path, params={"limit": 1}, headers=headers)
        if response.status_code == 200:
            return response
        problem = response.json().get("type", "") if _is_json(response) else ""
        waiting = response.status_code in {503, 404} and problem.rsplit("/", 1)[-1] in {"grants-unknown", "not-covered"}
        if not waiting or time.monotonic() > deadline:
            raise SeedError(f"GET {path}", response)
        time.sleep(0.25)


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "")


#: Which department owns each registry in the demo (set in the catalog by the admin; stewards cannot change it).
DEMO_REGISTRY_OWNERS: dict[str, str] = {
    "population": "psb",
    "legal-entity": "amr",
    "geo": "nrb",
    "macroeconomy": "stats",
}


def catalog_seed_steps() -> int:
    """How many progress steps `seed_catalog` reports."""
    return 3


def seed_catalog(gateway: httpx.Client, steward: DemoClient, report: Callable[[str], None] = lambda step: None) -> None:
    """Assign the registries their owners, then register and publish the registries' catalog resources.

    Owners are assigned as the admin (whose token `gateway` carries since `seed_demo`), resources as their
    provider's steward.
    """
    from onesource.population.catalog import resources as population_resources  # see seed_persons

    for service, owner in DEMO_REGISTRY_OWNERS.items():
        assigned = gateway.put(f"/api/catalog/v1/registries/{service}", json={"owner": owner})
        if assigned.status_code not in {200, 201}:
            raise SeedError(f"assign registry {service} to {owner}", assigned)
    report("registries assigned their owners")
    headers = {"Authorization": f"Bearer {client_token(gateway, steward)}"}
    for resource in population_resources(steward.department):
        created = gateway.post("/api/catalog/v1/resources", json=resource, headers=headers)
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
