"""Issue 20's probe on a running mesh: a department's steward tries to open another department's registry.

(Named to run right after ``test_flow.py``, before ``test_mesh.py``'s 12,000-person import, whose change events keep
the exchange's projector busy for minutes: the subscription check below waits for one projected change.)

A steward of a new department describes a "mirror" of the population registry in the catalog; a second department
asks for it and reads persons through it; a third resource watches who reads psb's persons through the audit
history; and psb's own registrar must not be locked out. Nor may a subscription to the mirror carry population's
change events. The catalog refuses the mirror, and a mirror that
reached the platform anyway (published before the rule, here put straight onto the catalog's topic) opens nothing.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from onesource.kit.events import CloudEvent
from onesource.kit.kafka import create_producer, start_client
from onesource.kit.settings import KafkaSettings
from tests.conftest import Mesh, eventually
from tests.test_flow import OWNER_PURPOSE, PURPOSE, Department, problem_type, read_person, request_share, some_person

RESOURCE_TOPIC = "onesource.catalog.resource.v1"
PUBLISHED = "gov.onesource.catalog.resource.published.v1"
#: Fields of population.person-extended (conditional), copied as the mirror of the issue copied them.
MIRRORED = ["id_number", "name", "household_address", "marital_status", "education"]


def mirror(department: Department, resource_id: str, paths: list[str], **changes: Any) -> dict[str, Any]:
    """A resource of ``department`` over the population registry, as its steward would describe it."""
    return {
        "id": resource_id,
        "name": "人口信息镜像",
        "summary": "another department's copy of population data",
        "provider": department.code,
        "category": "department",
        "format": "api/json",
        "update_cycle": "realtime",
        "share_type": "unconditional",
        "service": "population",
        "paths": paths,
        "key": "id_number",
        "fields": [
            {
                "name": name,
                "element": f"person.{name}",
                "data_type": "C",
                "length": 200,
                "source_element": f"person.{name}",
            }
            for name in MIRRORED
        ],
        **changes,
    }


def test_the_catalog_refuses_a_resource_over_another_departments_registry(mesh: Mesh) -> None:
    rogue = Department(mesh)
    steward = rogue.headers("steward", None)
    for resource in (
        mirror(rogue, f"{rogue.code}.mirror", ["/v1/persons/{id_number}", "/v1/persons"]),
        mirror(rogue, f"{rogue.code}.history", ["/v1/persons/{id_number}/history"]),
        mirror(rogue, f"{rogue.code}.imports", ["/v1/imports", "/v1/imports/{import_id}/errors"]),
        mirror(rogue, f"{rogue.code}.topic", [], service=None, topic="onesource.population.person.v1"),
    ):
        refused = httpx.post(f"{mesh.gateway}/api/catalog/v1/resources", headers=steward, json=resource)
        assert refused.status_code == 403, refused.text
        assert problem_type(refused) == "registry-not-owned"
        assert refused.json()["owner"] == "psb"
    # Nor can the steward make its department the owner: only platform admins assign registries.
    taken = httpx.put(
        f"{mesh.gateway}/api/catalog/v1/registries/population", headers=steward, json={"owner": rogue.code}
    )
    assert taken.status_code == 403, taken.text
    registries = httpx.get(f"{mesh.gateway}/api/catalog/v1/registries", headers=steward)
    assert registries.status_code == 200, registries.text
    owners = {item["service"]: item["owner"] for item in registries.json()["items"]}
    assert owners == {"population": "psb", "legal-entity": "amr", "geo": "nrb", "macroeconomy": "stats"}


def test_a_rogue_resource_that_reached_the_platform_anyway_opens_nothing(mesh: Mesh) -> None:
    rogue, reader = Department(mesh), Department(mesh)
    person = some_person(mesh, 5)
    resource_id = f"{rogue.code}.mirror"
    published = {
        **mirror(rogue, resource_id, ["/v1/persons/{id_number}", "/v1/persons", "/v1/persons/{id_number}/history"]),
        "code": "3/999999",
        "share_condition": None,
        "legal_basis": None,
        "open_to_public": False,
        "open_condition": None,
        "topic": "onesource.population.person.v1",
        "status": "published",
        "version": 2,
        "published_at": datetime.now(UTC).isoformat(),
        "updated_at": datetime.now(UTC).isoformat(),
    }
    asyncio.run(publish(str(mesh.document["kafka_bootstrap"]), published))

    # The exchange learns of it and grants it at once (it is unconditional): the grant is what the second
    # department held.
    def granted() -> dict[str, Any] | None:
        asked = httpx.post(
            f"{mesh.gateway}/api/exchange/v1/share-requests",
            headers=reader.headers(purpose_text=None),
            json={"resource": resource_id, "fields": MIRRORED, "purpose": PURPOSE},
        )
        return asked.json() if asked.status_code == 201 else None

    answer = eventually(granted, timeout=60)
    assert answer["status"] == "granted", answer
    subscribed = subscribe(mesh, reader, resource_id)
    # A department with a grant on psb's own resource: its feed shows when psb's change has been projected.
    control = Department(mesh)
    request_share(mesh, control, "population.person", ["id_number", "name"])
    controlled = subscribe(mesh, control, "population.person")
    # The gateway knows the resource (it answers its history's question, instead of "no such resource").
    watch = f"{mesh.gateway}/api/audit/v1/records/{resource_id}/{person['id_number']}"
    eventually(lambda: httpx.get(watch, headers=rogue.headers("steward", None)).status_code != 404)

    # Whatever the grant, no read of population through the mirror answers: a grant on it is a grant on nothing.
    paths = [
        f"/api/population/v1/persons/{person['id_number']}",
        "/api/population/v1/persons?limit=5",
        f"/api/population/v1/persons/{person['id_number']}/history",
    ]
    deadline = time.monotonic() + 5  # the grant reaches the gateway within a second; keep asking a while longer
    while time.monotonic() < deadline:
        for path in paths:
            response = httpx.get(f"{mesh.gateway}{path}", headers=reader.headers())
            assert response.status_code in {403, 404}, (path, response.text)
            assert person["name"] not in response.text
        time.sleep(0.5)

    # Who read psb's persons is not the rogue steward's to see, through the mirror or any resource of its own.
    assert httpx.get(watch, headers=rogue.headers("steward", None)).status_code == 403
    # And psb's registrar is not locked out of its registry: it reads, writes and reaches its uncovered endpoints.
    owner = mesh.bearer("psb-registrar", OWNER_PURPOSE)
    current = read_person(mesh, person["id_number"], owner)
    assert current.status_code == 200, current.text
    patched = httpx.patch(
        f"{mesh.gateway}/api/population/v1/persons/{person['id_number']}",
        headers={**owner, "If-Match": current.headers["etag"], "Content-Type": "application/merge-patch+json"},
        json={"name": current.json()["name"] + "明"},
    )
    assert patched.status_code == 200, patched.text
    # Nor does a subscription to the mirror carry population's changes (the mirror names population's topic).
    eventually(lambda: feed(mesh, control, controlled, person["id_number"]), timeout=180)
    assert feed(mesh, reader, subscribed, person["id_number"]) == []
    imports = httpx.get(f"{mesh.gateway}/api/population/v1/imports", params={"limit": 1}, headers=owner)
    assert imports.status_code == 200, imports.text


def subscribe(mesh: Mesh, department: Department, resource: str) -> str:
    subscribed = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/subscriptions",
        headers=department.headers(purpose_text=None),
        json={"resource": resource, "delivery": "feed"},
    )
    assert subscribed.status_code == 201, subscribed.text
    return str(subscribed.json()["id"])


def feed(mesh: Mesh, department: Department, subscription: str, subject: str) -> list[dict[str, Any]]:
    """The deliveries about ``subject`` on a subscription's feed so far."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"after": cursor} if cursor else {})}
        page = httpx.get(
            f"{mesh.gateway}/api/exchange/v1/subscriptions/{subscription}/events",
            params=params,
            headers=department.headers(purpose_text=None),
        )
        assert page.status_code == 200, page.text
        items.extend(item for item in page.json()["items"] if item["subject"] == subject)
        if not page.json()["items"]:
            return items
        cursor = page.json()["next_cursor"]


async def publish(bootstrap: str, document: dict[str, Any]) -> None:
    """Put a catalog resource event on the broker, as the catalog's relay would have before the rule."""
    producer = create_producer(KafkaSettings(bootstrap=bootstrap, idempotence=False), client_id="ownership-probe")
    await start_client(producer)
    try:
        event = CloudEvent(source="/onesource/catalog", type=PUBLISHED, subject=document["id"], data=document)
        await producer.send_and_wait(RESOURCE_TOPIC, event.model_dump_json().encode(), key=document["id"].encode())
    finally:
        await producer.stop()
