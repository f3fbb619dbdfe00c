"""The pinned flow end to end on a running mesh, through the gateway only, as departmental systems use it.

token → catalog → share request → provider decision → coordinator confirmation → masked read → audit →
subscription → masked change event; and the refusals around it (no purpose, wrong purpose, no grant, other
departments' things).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any
from urllib.parse import quote

import httpx
from aiokafka import AIOKafkaConsumer

from onesource.standards.uscc import check_character, organisation_code_check_character
from tests.conftest import Mesh, eventually

#: The purposes are Chinese, as departments write them; the header carries them percent-encoded (UTF-8).
PURPOSE = "最低生活保障资格审核"
OTHER_PURPOSE = "临时救助对象核查"
OWNER_PURPOSE = "registry-maintenance"
METADATA = {"version", "created_at", "updated_at"}
PROBLEMS = "https://onesource.gov.cn/problems/"


def purpose(text: str) -> str:
    return quote(text, safe="")


def problem_type(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["type"]).removeprefix(PROBLEMS)


class Department:
    """A department registered for one test, with a consumer and a steward client."""

    def __init__(self, mesh: Mesh) -> None:
        self.mesh = mesh
        self.code = "t" + secrets.token_hex(4)
        admin = mesh.bearer("admin")
        body8 = "".join(secrets.choice("0123456789") for _ in range(8))
        body17 = "11110000" + body8 + organisation_code_check_character(body8)  # GB 32100 with GB 11714
        created = httpx.post(
            f"{mesh.gateway}/api/identity/v1/departments",
            headers=admin,
            json={"code": self.code, "name": f"测试局 {self.code}", "uscc": body17 + check_character(body17)},
        )
        assert created.status_code == 201, created.text
        self.secrets: dict[str, tuple[str, str]] = {}
        for role in ("consumer", "steward"):
            client = httpx.post(
                f"{mesh.gateway}/api/identity/v1/clients",
                headers=admin,
                json={"department": self.code, "name": f"{role} system", "roles": [role]},
            )
            assert client.status_code == 201, client.text
            self.secrets[role] = client.json()["client_id"], client.json()["client_secret"]

    def headers(self, role: str = "consumer", purpose_text: str | None = PURPOSE) -> dict[str, str]:
        client_id, secret = self.secrets[role]
        return self.mesh.bearer(client_id, purpose(purpose_text) if purpose_text else None, secret=secret)

    def client_id(self, role: str = "consumer") -> str:
        return self.secrets[role][0]


def request_share(
    mesh: Mesh, department: Department, resource: str, fields: list[str], purpose_text: str = PURPOSE, **extra: Any
) -> dict[str, Any]:
    """Ask for a share; a conditional one is approved (for ``fields``) and confirmed, so it ends granted."""
    asked = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests",
        headers=department.headers(purpose_text=None),
        json={
            "resource": resource,
            "fields": fields,
            "purpose": purpose_text,
            "legal_basis": "《社会救助暂行办法》第十一条",
            **extra,
        },
    )
    assert asked.status_code == 201, asked.text
    body: dict[str, Any] = asked.json()
    if body["status"] == "pending_provider":
        decided = httpx.post(
            f"{mesh.gateway}/api/exchange/v1/share-requests/{body['id']}/decision",
            headers=mesh.bearer("psb-steward"),
            json={"approve": True, "fields": fields},
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["status"] == "pending_confirmation"
        confirmed = httpx.post(
            f"{mesh.gateway}/api/exchange/v1/share-requests/{body['id']}/confirm",
            headers=mesh.bearer("bdb-coordinator"),
        )
        assert confirmed.status_code == 200, confirmed.text
        body = confirmed.json()
    assert body["status"] == "granted", body
    assert body["grant_id"]
    return body


def some_person(mesh: Mesh, offset: int = 0) -> dict[str, Any]:
    """A seeded person, read by its owner."""
    owner = mesh.bearer("psb-registrar", OWNER_PURPOSE)
    listed = httpx.get(f"{mesh.gateway}/api/population/v1/persons", params={"limit": 50}, headers=owner)
    assert listed.status_code == 200, listed.text
    person: dict[str, Any] = listed.json()["items"][offset]
    return person


def read_person(mesh: Mesh, id_number: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{mesh.gateway}/api/population/v1/persons/{id_number}", headers=headers)


def test_the_pinned_flow(mesh: Mesh) -> None:
    department = Department(mesh)
    consumer = department.headers()

    resource = httpx.get(f"{mesh.gateway}/api/catalog/v1/resources/population.person", headers=consumer)
    assert resource.status_code == 200, resource.text
    assert resource.json()["share_type"] == "unconditional"
    assert {field["name"] for field in resource.json()["fields"]} >= {"id_number", "name", "sex"}

    base = request_share(mesh, department, "population.person", ["id_number", "name", "sex"])
    extended = request_share(mesh, department, "population.person-extended", ["id_number", "household_address"])
    assert base["grant_id"] != extended["grant_id"]

    person = some_person(mesh)
    granted = {"id_number", "name", "sex", "household_address"}

    def masked_read() -> httpx.Response | None:
        response = read_person(mesh, person["id_number"], consumer)
        return response if response.status_code == 200 and set(response.json()) == granted else None

    # The grants reach the gateway as events; the union of both shows once both have arrived.
    read = eventually(masked_read)
    assert read.json() == {name: person[name] for name in granted}
    assert "etag" not in read.headers

    listed = httpx.get(f"{mesh.gateway}/api/population/v1/persons", params={"limit": 20}, headers=consumer)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"]
    for item in listed.json()["items"]:
        assert set(item) <= granted
        assert not METADATA & set(item)

    # The owner's steward sees who read the record, when and why.
    def history() -> list[dict[str, Any]]:
        response = httpx.get(
            f"{mesh.gateway}/api/audit/v1/records/population.person/{person['id_number']}",
            headers=mesh.bearer("psb-steward"),
        )
        assert response.status_code == 200, response.text
        return [item for item in response.json()["items"] if item["client_id"] == department.client_id()]

    entries = eventually(history)
    assert entries[0]["department"] == department.code
    assert entries[0]["purpose"] == PURPOSE
    assert set(entries[0]["fields"]) == granted
    verified = httpx.get(f"{mesh.gateway}/api/audit/v1/verify", headers=mesh.bearer("admin"))
    assert verified.status_code == 200, verified.text
    assert verified.json()["ok"] is True
    assert verified.json()["entries"] >= 1

    # A subscription delivers the owner's change, masked to the grant on population.person.
    subscribed = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/subscriptions",
        headers=consumer,
        json={"resource": "population.person", "delivery": "feed"},
    )
    assert subscribed.status_code == 201, subscribed.text
    subscription = subscribed.json()["id"]
    to_kafka = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/subscriptions",
        headers=consumer,
        json={"resource": "population.person", "delivery": "kafka"},
    )
    assert to_kafka.status_code == 201, to_kafka.text
    topic = to_kafka.json()["topic"]
    assert topic == f"onesource.delivery.{department.code}.population.person"
    owner = mesh.bearer("psb-registrar", OWNER_PURPOSE)
    current = read_person(mesh, person["id_number"], owner)
    assert current.status_code == 200
    new_name = current.json()["name"] + "明"
    patched = httpx.patch(
        f"{mesh.gateway}/api/population/v1/persons/{person['id_number']}",
        headers={**owner, "If-Match": current.headers["etag"], "Content-Type": "application/merge-patch+json"},
        content=f'{{"name": "{new_name}"}}'.encode(),
    )
    assert patched.status_code == 200, patched.text

    events = eventually(lambda: mesh.feed(subscription, consumer, person["id_number"]), timeout=60)
    record = events[-1]["data"]["record"]
    assert record["name"] == new_name
    assert set(record) <= {"id_number", "name", "sex"}

    # The integrator's way: the department's delivery topic on the broker, masked the same way.
    on_topic = asyncio.run(delivered_on(str(mesh.document["kafka_bootstrap"]), topic, person["id_number"]))
    assert on_topic["data"]["record"]["name"] == new_name
    assert set(on_topic["data"]["record"]) <= {"id_number", "name", "sex"}
    assert on_topic["type"] == events[-1]["type"] == "gov.onesource.population.person.updated.v1"


async def delivered_on(bootstrap: str, topic: str, subject: str, timeout: float = 60.0) -> dict[str, Any]:
    """The first event about ``subject`` on a delivery topic, read from the beginning as an integrator would."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        async with asyncio.timeout(timeout):
            async for message in consumer:
                event: dict[str, Any] = json.loads(message.value or b"{}")
                if event.get("subject") == subject and message.key == subject.encode():
                    return event
    finally:
        await consumer.stop()
    raise AssertionError(f"no event about {subject} on {topic}")


def test_refusals_are_as_pinned(mesh: Mesh) -> None:
    department = Department(mesh)
    person = some_person(mesh, 1)
    path = f"{mesh.gateway}/api/population/v1/persons/{person['id_number']}"

    assert httpx.get(path).status_code == 401
    no_purpose = httpx.get(path, headers=department.headers(purpose_text=None))
    assert no_purpose.status_code == 400
    assert problem_type(no_purpose) == "purpose-required"
    no_grant = httpx.get(path, headers=department.headers())
    assert no_grant.status_code == 403
    assert problem_type(no_grant) == "no-grant"

    request_share(mesh, department, "population.person", ["id_number", "name"])
    eventually(lambda: read_person(mesh, person["id_number"], department.headers()).status_code == 200)
    mismatch = httpx.get(path, headers=department.headers(purpose_text=OTHER_PURPOSE))
    assert mismatch.status_code == 403
    assert problem_type(mismatch) == "purpose-mismatch"

    # A grant lets a department read, never write, and only where a resource covers the path.
    write = httpx.patch(path, headers={**department.headers(), "If-Match": '"1"'}, json={"name": "x"})
    assert write.status_code == 405
    assert problem_type(write) == "method-not-allowed"
    imports = httpx.get(f"{mesh.gateway}/api/population/v1/imports", headers=department.headers())
    assert imports.status_code == 404
    assert problem_type(imports) == "not-covered"


def test_a_department_never_reaches_another_departments_things(mesh: Mesh) -> None:
    reader, other = Department(mesh), Department(mesh)
    person = some_person(mesh, 2)
    request_share(mesh, reader, "population.person", ["id_number", "name"])
    subscribed = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/subscriptions",
        headers=reader.headers(),
        json={"resource": "population.person", "delivery": "feed"},
    )
    assert subscribed.status_code == 201, subscribed.text
    subscription = subscribed.json()["id"]
    eventually(lambda: read_person(mesh, person["id_number"], reader.headers()).status_code == 200)

    # Another department holds no grant: the same call is refused, whatever purpose it quotes.
    assert read_person(mesh, person["id_number"], other.headers()).status_code == 403
    # It cannot read the reader's deliveries, grants or share requests.
    feed = httpx.get(f"{mesh.gateway}/api/exchange/v1/subscriptions/{subscription}/events", headers=other.headers())
    assert feed.status_code == 403
    grants = httpx.get(f"{mesh.gateway}/api/exchange/v1/grants", headers=other.headers())
    assert grants.status_code == 200
    assert grants.json()["items"] == []
    # Nor the audit trail of a record it does not own, nor the verification (admin only).
    for role in ("consumer", "steward"):
        trail = httpx.get(
            f"{mesh.gateway}/api/audit/v1/records/population.person/{person['id_number']}",
            headers=other.headers(role),
        )
        assert trail.status_code == 403
        assert httpx.get(f"{mesh.gateway}/api/audit/v1/verify", headers=other.headers(role)).status_code == 403
    # A steward of another department cannot answer the population registry's share requests.
    asked = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests",
        headers=other.headers(purpose_text=None),
        json={
            "resource": "population.person-extended",
            "fields": ["id_number", "household_address"],
            "purpose": PURPOSE,
        },
    )
    assert asked.status_code == 201, asked.text
    decided = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests/{asked.json()['id']}/decision",
        headers=other.headers("steward", None),
        json={"approve": True},
    )
    assert decided.status_code == 403
    assert problem_type(decided) == "not-the-provider"
    # A registrar of another department cannot write the population registry.
    write = httpx.patch(
        f"{mesh.gateway}/api/population/v1/persons/{person['id_number']}",
        headers={**mesh.bearer("amr-registrar", OWNER_PURPOSE), "If-Match": '"1"'},
        json={"name": "x"},
    )
    assert write.status_code == 405
    assert problem_type(write) == "method-not-allowed"


def test_row_scope_limits_the_records(mesh: Mesh) -> None:
    department = Department(mesh)
    inside, outside = some_person(mesh, 3), some_person(mesh, 4)
    # A scope of one full ID number: the grant covers exactly that person.
    scope = {"id_number": [inside["id_number"]]}
    request_share(mesh, department, "population.person", ["id_number", "name"], row_scope=scope)

    eventually(lambda: read_person(mesh, inside["id_number"], department.headers()).status_code == 200)
    hidden = read_person(mesh, outside["id_number"], department.headers())
    assert hidden.status_code == 404
    page = httpx.get(f"{mesh.gateway}/api/population/v1/persons", params={"limit": 50}, headers=department.headers())
    assert page.status_code == 200, page.text
    assert page.json()["items"] == [{"id_number": inside["id_number"], "name": inside["name"]}]


def test_a_revoked_grant_stops_reads(mesh: Mesh) -> None:
    department = Department(mesh)
    person = some_person(mesh, 4)
    grant = request_share(mesh, department, "population.person", ["id_number", "name"])["grant_id"]
    eventually(lambda: read_person(mesh, person["id_number"], department.headers()).status_code == 200)
    revoked = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/grants/{grant}/revoke",
        headers=mesh.bearer("psb-steward"),
        json={"reason": "用途已结束"},
    )
    assert revoked.status_code == 200, revoked.text
    eventually(lambda: read_person(mesh, person["id_number"], department.headers()).status_code == 403)


def test_disabling_a_client_stops_it_at_the_gateway(mesh: Mesh) -> None:
    department = Department(mesh)
    headers = department.headers()
    assert httpx.get(f"{mesh.gateway}/api/catalog/v1/resources/population.person", headers=headers).status_code == 200
    disabled = httpx.post(
        f"{mesh.gateway}/api/identity/v1/clients/{department.client_id()}/disable", headers=mesh.bearer("admin")
    )
    assert disabled.status_code == 200, disabled.text
    refused = httpx.get(f"{mesh.gateway}/api/catalog/v1/resources/population.person", headers=headers)
    assert refused.status_code == 401
