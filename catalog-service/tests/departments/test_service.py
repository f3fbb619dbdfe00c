"""The departments read model: fed by the gateway's department events (directly, and once through the broker), it
decides which providers a resource may name."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.departments.schemas import DEPARTMENT_TOPIC, REGISTERED
from onesource.catalog.departments.service import handle_department_event
from onesource.catalog.models import Department
from onesource.kit.events import CloudEvent
from onesource.kit.kafka import create_producer, ensure_topics, start_client

RESOURCES = "/v1/resources"


def department_event(code: str, name: str = "卫生健康委员会", uscc: str = "11110000000011084D") -> CloudEvent:
    return CloudEvent(
        source="/onesource/gateway",
        type=REGISTERED,
        subject=code,
        data={"code": code, "name": name, "uscc": uscc, "ignored": "an attribute the catalog does not read"},
    )


async def _handle(connection: Any, event: CloudEvent) -> None:
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        await handle_department_event(session, event)
        await session.commit()


async def test_a_resource_of_an_unknown_provider_is_refused(client, admin, person) -> None:
    refused = await client.post(
        RESOURCES, json=person(provider="health", service=None, topic=None, paths=[]), headers=admin
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("/unknown-provider")
    assert refused.json()["provider"] == "health"


async def test_a_department_event_makes_the_provider_known(client, connection, admin, person) -> None:
    await _handle(connection, department_event("health"))
    document = person(id="health.clinic", provider="health", service=None, topic=None, paths=[])
    created = await client.post(RESOURCES, json=document, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["provider"] == "health"


async def test_a_later_event_renames_the_department(connection) -> None:
    await _handle(connection, department_event("health", name="卫生局"))
    await _handle(connection, department_event("health", name="卫生健康委员会"))
    found = await connection.scalar(select(Department.name).where(Department.code == "health"))
    assert found == "卫生健康委员会"


async def test_department_events_through_the_broker(catalog_app, infrastructure) -> None:
    """The app's own consumer group reads the gateway's topic and keeps the read model."""
    code = f"d{uuid.uuid4().hex[:10]}"  # committed: keep clear of the rolled-back tests' departments
    kafka = infrastructure.kafka
    await ensure_topics(kafka, [DEPARTMENT_TOPIC], client_id="test-gateway")
    producer = create_producer(kafka, client_id="test-gateway")
    await start_client(producer)
    event = department_event(code)

    async def uscc_of() -> str | None:
        async with catalog_app.state.engine.connect() as fresh:
            return await fresh.scalar(select(Department.uscc).where(Department.code == code))

    try:
        await producer.send_and_wait(DEPARTMENT_TOPIC, key=code.encode(), value=event.model_dump_json().encode())
        for _ in range(300):
            if await uscc_of() == "11110000000011084D":
                break
            await asyncio.sleep(0.1)
        assert await uscc_of() == "11110000000011084D"
    finally:
        await producer.stop()
        async with catalog_app.state.engine.begin() as fresh:
            await fresh.execute(delete(Department).where(Department.code == code))
