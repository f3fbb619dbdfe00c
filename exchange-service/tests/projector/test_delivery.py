"""The projector with the real broker: source events in, masked deliveries out over Kafka and the HTTP feed.

These tests commit (the projector works in its own transactions); each uses its own departments, resource and
topics, so they never see each other's data.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from onesource.exchange.models import Delivery
from onesource.exchange.projector.service import delivery_id

PERSON = "gov.onesource.population.person"


async def test_deliveries_are_masked_over_kafka_and_the_feed(world, topic_reader) -> None:
    await world.publish_resource()
    department = world.unique("mca")
    granted = await world.grant(department, ["id_number", "name"])
    subscription = await world.subscribe(department, "kafka")
    assert subscription["topic"] == f"onesource.delivery.{department}.{world.resource}"

    registered = await world.emit("registered", "K1", world.person("K1"))
    await world.emit(
        "updated", "K1", world.person("K1", marital_status="21"), {"marital_status": "21"}
    )  # nothing granted
    renamed = await world.emit(
        "updated", "K1", world.person("K1", name="张叁"), {"name": "张叁", "household_address": "x"}
    )

    items = await world.feed_until(subscription, department, 2)
    assert [item["type"] for item in items] == [f"{PERSON}.registered.v1", f"{PERSON}.updated.v1"]
    first, second = items
    assert first["data"] == {"record": {"id_number": "K1", "name": "张三"}}
    assert second["data"] == {"record": {"id_number": "K1", "name": "张叁"}, "changes": {"name": "张叁"}}
    for item, source in ((first, registered), (second, renamed)):
        assert item["id"] == delivery_id(subscription["id"], source["id"])
        assert item["source"] == "/onesource/exchange"
        assert item["subject"] == "K1"
        assert item["time"].replace("Z", "+00:00")[:19] == source["time"][:19]
        assert item["onesourcegrant"] == granted["grant_id"]
        assert item["specversion"] == "1.0"

    records = await topic_reader.read(subscription["topic"], until=lambda records: len(records) >= 2, settle=0.5)
    assert [record.key for record in records] == ["K1", "K1"]
    assert [record.value for record in records] == items
    assert all(record.headers.get("content-type") == "application/cloudevents+json" for record in records)


async def test_row_scope_is_evaluated_on_the_unmasked_record(world) -> None:
    await world.publish_resource()
    department = world.unique("mca")
    await world.grant(department, ["id_number", "name"], row_scope={"household_region_code": ["1101", "3101"]})
    subscription = await world.subscribe(department)
    await world.emit("registered", "IN1", world.person("IN1", household_region_code="110105"))
    await world.emit("registered", "OUT", world.person("OUT", household_region_code="440305"))
    await world.emit("registered", "IN2", world.person("IN2", household_region_code="310101"))
    items = await world.feed_until(subscription, department, 2)
    await asyncio.sleep(0.5)
    items += (await world.feed(subscription, department, after=None))["items"][2:]
    assert sorted(item["subject"] for item in items) == ["IN1", "IN2"]
    assert all(set(item["data"]["record"]) == {"id_number", "name"} for item in items)


async def test_revoking_the_grant_stops_delivery(world) -> None:
    await world.publish_resource()
    revoked_department, witness = world.unique("mca"), world.unique("hrss")
    doomed = await world.grant(revoked_department, ["id_number", "name"])
    await world.grant(witness, ["id_number", "name"])
    doomed_subscription = await world.subscribe(revoked_department)
    witness_subscription = await world.subscribe(witness)

    await world.emit("registered", "R1", world.person("R1"))
    assert len(await world.feed_until(doomed_subscription, revoked_department, 1)) == 1
    revoked = await world.client.post(
        f"/v1/grants/{doomed['grant_id']}/revoke",
        json={"reason": "no longer entitled"},
        headers=world.callers(world.provider, "steward"),
    )
    assert revoked.status_code == 200
    await world.emit("registered", "R2", world.person("R2"))
    await world.emit("updated", "R1", world.person("R1", name="李四"), {"name": "李四"})
    # the witness's grant is still in force: once it has both, the projector has handled both
    witnessed = await world.feed_until(witness_subscription, witness, 3)
    # order holds per key (one partition), not across keys
    assert sorted(item["subject"] for item in witnessed) == ["R1", "R1", "R2"]
    after_revocation = (await world.feed(doomed_subscription, revoked_department))["items"]
    assert [item["subject"] for item in after_revocation] == ["R1"]


async def test_long_poll_wakes_on_delivery_and_the_cursor_resumes(world) -> None:
    await world.publish_resource()
    department = world.unique("mca")
    await world.grant(department, ["id_number", "name"])
    subscription = await world.subscribe(department)
    empty = await world.feed(subscription, department)
    assert empty["items"] == []

    started = time.monotonic()
    waiting = asyncio.create_task(world.feed(subscription, department, after=empty["next_cursor"], wait=20))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    await world.emit("registered", "L1", world.person("L1"))
    first = await waiting
    assert time.monotonic() - started < 15
    assert [item["subject"] for item in first["items"]] == ["L1"]

    # resuming from the cursor gives only what came after it
    nothing = await world.feed(subscription, department, after=first["next_cursor"], wait=0.3)
    assert nothing["items"] == []
    assert nothing["next_cursor"] == first["next_cursor"]
    await world.emit("registered", "L2", world.person("L2"))
    await world.emit("registered", "L3", world.person("L3"))
    rest = await world.feed_until(subscription, department, 0)  # no-op, keeps the helper honest
    assert rest == []
    page = await world.feed(subscription, department, after=first["next_cursor"], wait=10)
    collected = page["items"]
    cursor = page["next_cursor"]
    while len(collected) < 2:
        page = await world.feed(subscription, department, after=cursor, wait=5)
        collected += page["items"]
        cursor = page["next_cursor"]
    assert sorted(item["subject"] for item in collected) == ["L2", "L3"]
    everything = await world.feed(subscription, department)
    assert [item["subject"] for item in everything["items"]] == ["L1", *(item["subject"] for item in collected)]


async def test_projector_restart_neither_loses_nor_reorders(world, exchange_app, topic_reader) -> None:
    await world.publish_resource()
    department = world.unique("mca")
    await world.grant(department, ["id_number", "name"])
    subscription = await world.subscribe(department, "kafka")
    keys = ["A", "B", "C", "D"]
    runner = exchange_app.state.projector

    async def burst(start: int, stop: int) -> None:
        for number in range(start, stop):
            key = keys[number % len(keys)]
            await world.emit("updated", key, world.person(key, name=f"n{number}"), {"name": f"n{number}"})

    await burst(0, 20)
    await world.feed_until(subscription, department, 5)
    await runner.stop()  # mid-stream, like a crash: whatever was not committed is handled again
    await burst(20, 40)
    runner.start()
    await burst(40, 60)
    items = await world.feed_until(subscription, department, 60, timeout=60)
    await asyncio.sleep(1.0)
    items += (await world.feed(subscription, department))["items"][60:]

    assert len(items) == 60
    assert len({item["id"] for item in items}) == 60
    for key in keys:
        names = [item["data"]["changes"]["name"] for item in items if item["subject"] == key]
        expected = [f"n{number}" for number in range(60) if keys[number % len(keys)] == key]
        assert names == expected, key

    records = await topic_reader.read(subscription["topic"], until=lambda records: len(records) >= 60, settle=1.0)
    assert len({record.value["id"] for record in records}) == 60
    for key in keys:
        names = [record.value["data"]["changes"]["name"] for record in records if record.key == key]
        # at-least-once on Kafka: a redelivered event repeats with the same id, never out of order
        deduplicated = list(dict.fromkeys(names))
        assert deduplicated == [f"n{number}" for number in range(60) if keys[number % len(keys)] == key]


async def test_a_subscription_gets_only_changes_after_it_was_made(world, exchange_app) -> None:
    await world.publish_resource()
    department = world.unique("mca")
    await world.grant(department, ["id_number"])
    await world.emit("registered", "OLD", world.person("OLD"))
    await asyncio.sleep(1.0)
    subscription = await world.subscribe(department)
    await world.emit("registered", "NEW", world.person("NEW"))
    items = await world.feed_until(subscription, department, 1)
    await asyncio.sleep(0.5)
    assert [item["subject"] for item in (await world.feed(subscription, department))["items"]] == ["NEW"]
    assert items[0]["data"] == {"record": {"id_number": "NEW"}}
    async with exchange_app.state.sessionmaker() as session:
        logged = (await session.scalars(select(Delivery).where(Delivery.subscription_id == subscription["id"]))).all()
    assert [(row.seq, row.record_key) for row in logged] == [(1, "NEW")]


async def test_a_resolved_correction_reaches_subscribers_as_a_change_event(world) -> None:
    await world.publish_resource()
    reporter, other = world.unique("mca"), world.unique("hrss")
    await world.grant(reporter, ["id_number", "name"])
    await world.grant(other, ["id_number", "name"])
    reporter_feed = await world.subscribe(reporter)
    other_feed = await world.subscribe(other)
    await world.emit("registered", "C1", world.person("C1", name="张三"))
    await world.feed_until(other_feed, other, 1)

    reported = await world.client.post(
        "/v1/corrections",
        json={
            "resource": world.resource,
            "record_key": "C1",
            "field": "name",
            "reported_value": "张三",
            "suggested_value": "张叁",
            "note": "窗口核验",
        },
        headers=world.callers(reporter, "consumer"),
    )
    assert reported.status_code == 201, reported.text
    steward = world.callers(world.provider, "steward")
    seen = await world.client.get("/v1/corrections", params={"status": "open"}, headers=steward)
    assert [item["id"] for item in seen.json()["items"]] == [reported.json()["id"]]
    # the owner fixes the registry; its ordinary change event carries the fix to every subscriber
    await world.emit("updated", "C1", world.person("C1", name="张叁"), {"name": "张叁"})
    resolved = await world.client.post(
        f"/v1/corrections/{reported.json()['id']}/resolve", json={"note": "已更正"}, headers=steward
    )
    assert resolved.status_code == 200
    for department, subscription in ((reporter, reporter_feed), (other, other_feed)):
        items = await world.feed_until(subscription, department, 2)
        assert items[-1]["data"]["changes"] == {"name": "张叁"}


async def test_a_resource_over_another_departments_topic_carries_nothing(world, world_factory) -> None:
    # Issue 20: a department describes a resource on a registry's source topic it does not own; a grant on it must
    # not deliver that registry's changes. The owner's own subscribers on the same topic still get them.
    await world.publish_resource()
    owners_reader = world.unique("mca")
    await world.grant(owners_reader, ["id_number", "name"])
    owners = await world.subscribe(owners_reader)
    rogue = world_factory()
    rogue.resource, rogue.topic = world.unique("rogue") + ".mirror", world.topic
    await rogue.add_resource(rogue.resource, provider=rogue.provider, topic=rogue.topic, owned=False)
    reader = world.unique("mca")
    await rogue.grant(reader, ["id_number", "name", "household_address"])
    mirrored = await rogue.subscribe(reader)

    await world.emit("registered", "M1", world.person("M1"))
    assert len(await world.feed_until(owners, owners_reader, 1)) == 1
    await asyncio.sleep(1)
    assert (await rogue.feed(mirrored, reader))["items"] == []


async def test_an_event_made_before_every_subscription_is_passed_over_without_a_transaction(exchange_app) -> None:
    from datetime import timedelta

    from onesource.exchange.projector.consumer import Projector
    from onesource.kit.events import CloudEvent
    from onesource.kit.tables import handled_event

    projector = Projector(
        kafka=exchange_app.state.projector.projector.kafka,
        sessionmaker=exchange_app.state.sessionmaker,
        name=f"horizon-{uuid.uuid4().hex[:8]}",
    )
    await projector.source_topics()
    horizon = projector._horizon
    assert horizon is not None

    def event(at: datetime) -> CloudEvent:
        return CloudEvent.model_validate(
            {
                "id": str(uuid.uuid4()),
                "source": "/onesource/population",
                "type": f"{PERSON}.registered.v1",
                "subject": "K",
                "time": at.isoformat(),
                "data": {"record": {"id_number": "K"}},
            }
        )

    before, after = event(horizon - timedelta(seconds=1)), event(datetime.now(UTC) + timedelta(seconds=1))
    assert await projector.handle(before) == "before-every-subscription"
    assert await projector.handle(after) == "handled"
    async with exchange_app.state.sessionmaker() as session:
        recorded = set(
            await session.scalars(select(handled_event.c.event_id).where(handled_event.c.consumer == projector.name))
        )
    assert recorded == {after.id}, "only the event a subscription could have wanted was recorded as handled"
