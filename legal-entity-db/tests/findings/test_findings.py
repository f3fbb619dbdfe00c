"""The findings report: population's person events, as the exchange delivers them to the owner, on the real broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from onesource.kit.events import CloudEvent
from onesource.kit.kafka import create_producer, start_client
from onesource.kit.testing.plugin import Infrastructure

DELIVERIES = "onesource.delivery.amr.population.person"


@pytest_asyncio.fixture(loop_scope="session")
async def producer(infrastructure: Infrastructure) -> AsyncIterator[AIOKafkaProducer]:
    producer = create_producer(infrastructure.kafka, client_id="legal-entity-findings-tests")
    await start_client(producer)
    try:
        yield producer
    finally:
        await producer.stop()


def delivered(id_number: str, verb: str, record: dict[str, Any]) -> CloudEvent:
    """A person event as the exchange's projector delivers it: masked to the grant, naming it."""
    return CloudEvent.model_validate(
        {
            "source": "/onesource/exchange",
            "type": f"gov.onesource.population.person.{verb}.v1",
            "subject": id_number,
            "data": {"record": {"id_number": id_number, **record}},
            "onesourcegrant": "grant-1",
            "onesourcesubscription": "subscription-1",
            "onesourceresource": "population.person",
        }
    )


async def publish(producer: AIOKafkaProducer, event: CloudEvent) -> None:
    await producer.send_and_wait(DELIVERIES, event.model_dump_json().encode(), key=event.subject.encode())


async def findings(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> dict[str, dict[str, Any]]:
    response = await client.get("/v1/findings", params={"limit": "200", **params}, headers=headers)
    assert response.status_code == 200, response.text
    return {item["uscc"]: item for item in response.json()["items"]}


async def eventually_listed(
    client: httpx.AsyncClient, headers: dict[str, str], uscc: str, *, timeout: float = 20.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = await findings(client, headers)
        if uscc in found:
            return found[uscc]
        assert time.monotonic() < deadline, f"{uscc} never listed"
        await asyncio.sleep(0.2)


async def test_a_representatives_death_lists_their_entities_until_the_representative_changes(
    committing_client: httpx.AsyncClient,
    registrar: dict[str, str],
    steward: dict[str, str],
    people: Any,
    entity_factory: Any,
    producer: AIOKafkaProducer,
) -> None:
    representative, successor, bystander = await people.living(), await people.living(), await people.living()
    factory = entity_factory(representative)
    entities = [factory.entity() for _ in range(2)]
    for entity in entities:
        created = await committing_client.post("/v1/entities", json=entity, headers=registrar)
        assert created.status_code == 201, created.text

    # events that are no finding: a living person, a death of someone who represents nothing
    await publish(producer, delivered(representative, "registered", {"deceased": False}))
    await publish(producer, delivered(bystander, "deceased", {"deceased": True}))
    died = delivered(representative, "deceased", {"deceased": True})
    await publish(producer, died)
    await publish(producer, died)  # a redelivery is handled once

    finding = await eventually_listed(committing_client, steward, entities[0]["uscc"])
    assert finding["finding"] == "representative-deceased"
    assert finding["legal_representative_id"] == representative
    assert finding["status"] == "active"
    listed = await findings(committing_client, steward)
    assert entities[1]["uscc"] in listed
    assert not any(item["legal_representative_id"] == bystander for item in listed.values())

    read = await committing_client.get(f"/v1/entities/{entities[0]['uscc']}", headers=registrar)
    changed = await committing_client.patch(
        f"/v1/entities/{entities[0]['uscc']}",
        json={"legal_representative_id": successor},
        headers={**registrar, "If-Match": read.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    moved = await committing_client.post(
        f"/v1/entities/{entities[1]['uscc']}/status",
        json={"status": "deregistered", "reason": "注销", "effective_on": "2025-06-02"},
        headers=registrar,
    )
    assert moved.status_code == 200, moved.text
    listed = await findings(committing_client, steward)
    assert entities[0]["uscc"] not in listed
    assert entities[1]["uscc"] not in listed
    closed = await findings(committing_client, steward, include_closed="true")
    assert closed[entities[1]["uscc"]]["status"] == "deregistered"


async def test_the_findings_are_the_owners_only(
    committing_client: httpx.AsyncClient, foreign_consumer: dict[str, str], through_gateway: dict[str, str]
) -> None:
    for caller in (foreign_consumer, through_gateway):
        response = await committing_client.get("/v1/findings", headers=caller)
        assert response.status_code == 403
