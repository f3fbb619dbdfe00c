"""The resource and grant read models, fed by real events on the broker: tables, memory, ordering, finality."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from onesource.gateway.grants.schemas import EXPIRED, GRANT_TOPIC, ISSUED, REVOKED
from onesource.gateway.resources.schemas import CHANGED, PUBLISHED, RETIRED

from ..forwarding.conftest import Broker, eventually, grant_document, owned, resource_document, unique


async def handled(app: FastAPI, event_id: str) -> bool:
    """Whether the gateway's consumer has handled (and committed) the event."""
    async with app.state.engine.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM handled_event WHERE consumer = :consumer AND event_id = :event_id"),
            {"consumer": app.state.settings.read_model_group, "event_id": event_id},
        )
    return bool(count)


async def row(app: FastAPI, table: str, row_id: str) -> dict[str, Any] | None:
    async with app.state.engine.connect() as connection:
        found = await connection.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id})
        first = found.first()
        return dict(first._mapping) if first is not None else None


async def test_a_resource_moves_forward_by_version_only_and_covers_nothing_once_retired(
    caught_up: FastAPI, broker: Broker
) -> None:
    models = caught_up.state.read_models
    await owned(caught_up, broker, "population", "psb")
    collection = unique("c")
    resource_id = unique("test.resource-")
    template = f"/v1/{collection}/{{id_number}}"
    v2 = resource_document(resource_id, provider="psb", paths=[template], fields=["id_number", "name"], version=2)
    await broker.resource(v2, PUBLISHED)

    async def at_version_2() -> bool:
        entry = models.resources.get(resource_id)
        return entry is not None and entry.version == 2

    await eventually(at_version_2)
    # A late, older version changes nothing: not the table, not the cache.
    v1 = resource_document(resource_id, provider="psb", paths=[template], fields=["id_number", "sex"], version=1)
    await broker.resource(v1, CHANGED)
    v3 = resource_document(resource_id, provider="psb", paths=[template], fields=["id_number", "birth_date"], version=3)
    await broker.resource(v3, CHANGED)

    async def at_version_3() -> bool:
        entry = models.resources.get(resource_id)
        return entry is not None and entry.version == 3

    await eventually(at_version_3)
    stored = await row(caught_up, "catalog_resource", resource_id)
    assert stored is not None
    assert (stored["version"], stored["status"], stored["fields"]) == (3, "published", ["id_number", "birth_date"])
    assert (stored["paths"], stored["provider"], stored["key"]) == ([template], "psb", "id_number")
    coverage = models.resources.cover("population", f"/v1/{collection}/11010519491231002X")
    assert coverage is not None
    assert [resource.id for resource in coverage.resources] == [resource_id]
    assert coverage.requested_key == "11010519491231002X"

    await broker.resource({**v3, "status": "published"}, RETIRED)  # the retirement itself decides, not its document

    async def retired() -> bool:
        return models.resources.get(resource_id) is None

    await eventually(retired)
    assert models.resources.cover("population", f"/v1/{collection}/11010519491231002X") is None
    assert (await row(caught_up, "catalog_resource", resource_id))["status"] == "retired"  # type: ignore[index]


async def test_a_revoked_grant_never_comes_back(caught_up: FastAPI, broker: Broker) -> None:
    models = caught_up.state.read_models
    department = unique("d")
    issued = grant_document(
        department=department, resource="population.person", provider="psb", fields=["name"], purpose="审核"
    )
    await broker.grant(issued, ISSUED)

    async def active() -> bool:
        return models.grants.get(issued["id"]) is not None

    await eventually(active)
    entry = models.grants.get(issued["id"])
    assert entry is not None
    assert (entry.department, entry.resource, entry.fields, entry.purpose) == (
        department,
        "population.person",
        frozenset({"name"}),
        "审核",
    )
    await broker.grant({**issued, "status": "revoked", "revoked_reason": "done"}, REVOKED)

    async def gone() -> bool:
        return models.grants.get(issued["id"]) is None

    await eventually(gone)
    # The issue event again (a replay with a new id, or a late copy): the grant stays revoked.
    replay = await broker.grant(issued, ISSUED)
    await eventually(lambda: handled(caught_up, replay))
    await asyncio.sleep(0.1)  # a notification, had there been one, would have been applied by now
    assert models.grants.get(issued["id"]) is None
    assert (await row(caught_up, "access_grant", issued["id"]))["status"] == "revoked"  # type: ignore[index]
    await caught_up.state.read_model_sync.reload()
    assert models.grants.get(issued["id"]) is None


async def test_expired_grants_leave_by_event_and_by_time(caught_up: FastAPI, broker: Broker) -> None:
    models = caught_up.state.read_models
    department = unique("d")
    lapsing = grant_document(
        department=department,
        resource="population.person",
        provider="psb",
        fields=["name"],
        purpose="审核",
        valid_for=timedelta(seconds=1),
    )
    await broker.grant(lapsing, ISSUED)

    async def held() -> bool:
        return models.grants.get(lapsing["id"]) is not None

    await eventually(held)
    assert [grant.id for grant in models.grants.in_force(department, ["population.person"], time.time())] == [
        lapsing["id"]
    ]
    await asyncio.sleep(1.2)
    # Past valid_until: inactive at once, though no expiry event has come and the table still says active.
    assert models.grants.in_force(department, ["population.person"], time.time()) == []
    assert (await row(caught_up, "access_grant", lapsing["id"]))["status"] == "active"  # type: ignore[index]
    await broker.grant({**lapsing, "status": "expired"}, EXPIRED)

    async def expired() -> bool:
        stored = await row(caught_up, "access_grant", lapsing["id"])
        return stored is not None and stored["status"] == "expired" and models.grants.get(lapsing["id"]) is None

    await eventually(expired)


async def test_a_redelivered_event_is_handled_once(caught_up: FastAPI, broker: Broker) -> None:
    models = caught_up.state.read_models
    document = grant_document(
        department=unique("d"), resource="population.person", provider="psb", fields=["name"], purpose="审核"
    )
    event_id = await broker.grant(document, ISSUED)
    # The same event again (an at-least-once redelivery), and after it, on the same partition, a revocation.
    await broker.publish(GRANT_TOPIC, ISSUED, document, event_id=event_id)
    revocation = await broker.grant({**document, "status": "revoked"}, REVOKED)
    await eventually(lambda: handled(caught_up, revocation))
    async with caught_up.state.engine.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM handled_event WHERE consumer = :consumer AND event_id = :event_id"),
            {"consumer": caught_up.state.settings.read_model_group, "event_id": event_id},
        )
    assert count == 1

    async def gone() -> bool:
        return models.grants.get(document["id"]) is None

    await eventually(gone)


async def test_every_gateway_process_sees_every_change_whichever_consumed_it(
    caught_up: FastAPI, broker: Broker, settings
) -> None:
    from onesource.gateway.main import create_app
    from onesource.kit.testing.plugin import running_app

    # A second gateway process: same database, same consumer group. Kafka gives each partition to one of the two,
    # so each event is applied to the tables by one of them; both caches must follow every event.
    async with running_app(create_app(settings)) as second:
        processes = [caught_up.state.read_models, second.state.read_models]

        async def second_caught_up() -> bool:
            return second.state.read_models.grants_known

        await eventually(second_caught_up, timeout=60)
        documents = [
            grant_document(
                department=unique("d"), resource="population.person", provider="psb", fields=["name"], purpose="审核"
            )
            for _ in range(6)  # keys spread over the partitions, so both members write some
        ]
        for document in documents:
            await broker.grant(document, ISSUED)

        async def everywhere() -> bool:
            return all(models.grants.get(document["id"]) is not None for models in processes for document in documents)

        await eventually(everywhere, timeout=60)
        for document in documents:
            await broker.grant({**document, "status": "revoked"}, REVOKED)

        async def nowhere() -> bool:
            return all(models.grants.get(document["id"]) is None for models in processes for document in documents)

        await eventually(nowhere, timeout=60)
