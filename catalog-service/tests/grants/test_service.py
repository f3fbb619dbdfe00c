"""The active-grants read model: fed by grant events (directly, and once through the broker), it blocks retiring."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.grants.schemas import EXPIRED, GRANT_TOPIC, ISSUED, REVOKED
from onesource.catalog.grants.service import handle_grant_event
from onesource.catalog.models import ExchangeGrant
from onesource.kit.events import CloudEvent
from onesource.kit.kafka import create_producer, ensure_topics, start_client

RESOURCES = "/v1/resources"


def grant_event(event_type: str, grant_id: str, resource: str = "population.person", **data: Any) -> CloudEvent:
    return CloudEvent(
        source="/onesource/exchange",
        type=event_type,
        subject=grant_id,
        data={
            "id": grant_id,
            "department": "civil-affairs",
            "resource": resource,
            "fields": ["id_number", "name"],
            "purpose": "social-assistance",
            "valid_from": datetime.now(UTC).isoformat(),
            "valid_until": None,
            "status": "active",
            "legal_basis": "ignored extra attribute",
            **data,
        },
    )


async def _handle(connection: Any, event: CloudEvent) -> None:
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        await handle_grant_event(session, event)
        await session.commit()


async def _retire(client: Any, headers: dict[str, str]) -> Any:
    return await client.post(f"{RESOURCES}/population.person/retire", headers=headers)


async def test_active_grants_block_retiring_until_they_end(client, connection, catalog, police_steward, person) -> None:
    await catalog.published(person(), police_steward)
    await _handle(connection, grant_event(ISSUED, "grant-1"))
    await _handle(connection, grant_event(ISSUED, "grant-2"))
    await _handle(connection, grant_event(ISSUED, "grant-other", resource="legal-entity.company"))
    refused = await _retire(client, police_steward)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/resource-has-active-grants")
    assert refused.json()["grants"] == ["grant-1", "grant-2"]
    await _handle(connection, grant_event(REVOKED, "grant-1", status="revoked"))
    assert (await _retire(client, police_steward)).json()["grants"] == ["grant-2"]
    await _handle(connection, grant_event(EXPIRED, "grant-2", status="expired"))
    retired = await _retire(client, police_steward)
    assert retired.status_code == 200, retired.text
    assert retired.json()["status"] == "retired"


async def test_a_grant_past_its_end_does_not_count(client, connection, catalog, police_steward, person) -> None:
    await catalog.published(person(), police_steward)
    ended = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    await _handle(connection, grant_event(ISSUED, "grant-old", valid_until=ended))
    assert (await _retire(client, police_steward)).status_code == 200


async def test_a_late_issued_event_does_not_revive_a_revoked_grant(
    client, connection, catalog, police_steward, person
) -> None:
    await catalog.published(person(), police_steward)
    await _handle(connection, grant_event(REVOKED, "grant-late", status="revoked"))
    await _handle(connection, grant_event(ISSUED, "grant-late"))
    assert (await _retire(client, police_steward)).status_code == 200


async def test_grant_events_through_the_broker(
    catalog_app, client, catalog, police_steward, person, infrastructure
) -> None:
    """The app's own consumer group reads the exchange's topic and keeps the read model."""
    await catalog.published(person(), police_steward)
    kafka = infrastructure.kafka
    await ensure_topics(kafka, [GRANT_TOPIC], client_id="test-exchange")
    producer = create_producer(kafka, client_id="test-exchange")
    await start_client(producer)
    grant_id = f"grant-broker-{datetime.now(UTC).timestamp()}"

    async def send(event: CloudEvent) -> None:
        await producer.send_and_wait(GRANT_TOPIC, key=event.subject.encode(), value=event.model_dump_json().encode())

    async def status_of() -> str | None:
        async with catalog_app.state.engine.connect() as fresh:
            return await fresh.scalar(select(ExchangeGrant.status).where(ExchangeGrant.id == grant_id))

    async def until(expected: str) -> None:
        for _ in range(300):
            if await status_of() == expected:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"grant {grant_id} never became {expected}; it is {await status_of()}")

    try:
        await send(grant_event(ISSUED, grant_id))
        await until("active")
        refused = await _retire(client, police_steward)
        assert refused.status_code == 409
        assert refused.json()["grants"] == [grant_id]
        await send(grant_event(REVOKED, grant_id, status="revoked"))
        await until("revoked")
        assert (await _retire(client, police_steward)).status_code == 200
    finally:
        await producer.stop()
        async with catalog_app.state.engine.begin() as fresh:
            await fresh.execute(delete(ExchangeGrant).where(ExchangeGrant.id == grant_id))


def test_grant_event_payload_is_json_serialisable() -> None:
    assert json.loads(grant_event(ISSUED, "g").model_dump_json())["data"]["id"] == "g"
