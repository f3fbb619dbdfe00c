"""The outbox and its relay against the real database and broker.

Proves: rolled-back events are never published; committed ones arrive in per-key order; a relay killed
between publish and mark causes duplicates, never loss; a broker outage only delays delivery; two relays
in parallel publish each event once; deferred events keep their place among a key's events and their ids when
published again, and wait for a relay that can render them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from kit_widgets.app import MIGRATIONS
from kit_widgets.app import TOPIC as WIDGET_TOPIC
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from onesource.kit import outbox
from onesource.kit.db import create_engine, sessionmaker_for
from onesource.kit.embedded import EmbeddedKafka, find_free_port, log_tail
from onesource.kit.events import DomainEvent, EnvelopeWriter, derived_event_id
from onesource.kit.kafka import create_producer
from onesource.kit.outbox import OutboxRelay
from onesource.kit.settings import KafkaSettings
from onesource.kit.tables import outbox_event
from onesource.kit.testing.kafka import Record, TopicReader
from onesource.kit.testing.plugin import Infrastructure, prepare_service_database
from onesource.kit.testing.proxy import TcpProxy
from onesource.kit.testing.tokens import TestTokens
from onesource.kit.testing.waiting import eventually

TICK_TOPIC = "onesource.test.tick.v1"


class Ticked(DomainEvent):
    event_type: ClassVar[str] = "gov.onesource.test.counter.ticked.v1"
    topic: ClassVar[str] = TICK_TOPIC
    source: ClassVar[str] = "/onesource/tests"
    counter: str
    seq: int

    def subject(self) -> str:
        return self.counter


@pytest_asyncio.fixture(loop_scope="session")
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    """An outbox of the test's own: no relay of another test (or one a stuck shutdown left behind) can take its rows."""
    dsn = await prepare_service_database(infrastructure, "ticks", MIGRATIONS)
    engine = create_engine(dsn, pool_size=5)
    yield engine
    await engine.dispose()


async def write_ticks(engine: AsyncEngine, ticks: list[tuple[str, int]]) -> None:
    """One transaction per event, like one request per change."""
    sessions = sessionmaker_for(engine)
    for counter, seq in ticks:
        async with sessions() as session, session.begin():
            outbox.add(session, Ticked(counter=counter, seq=seq))


async def pending_rows(engine: AsyncEngine, key_prefix: str) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(
            select(func.count())
            .select_from(outbox_event)
            .where(outbox_event.c.published_at.is_(None), outbox_event.c.key.startswith(key_prefix))
        )
    return int(count or 0)


def of_run(records: list[Record], run: str) -> list[Record]:
    return [record for record in records if (record.key or "").startswith(run)]


@contextlib.asynccontextmanager
async def relaying(relay: OutboxRelay) -> AsyncIterator[OutboxRelay]:
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await relay.stop()


def relay_said(caplog: pytest.LogCaptureFixture, last: int = 5) -> str:
    """The relay's last warnings, for a failure message."""
    said = [record.getMessage() for record in caplog.records if record.name.startswith("onesource.kit")]
    return f"the relay said {said[-last:]!r}" if said else "the relay logged nothing"


async def all_marked(engine: AsyncEngine, key_prefix: str) -> bool:
    """Whether every event of ``key_prefix`` is marked published (which happens just after its acknowledgement)."""
    return await pending_rows(engine, key_prefix) == 0


def new_relay(engine: AsyncEngine, kafka: KafkaSettings, **options: Any) -> OutboxRelay:
    return OutboxRelay(engine, kafka, service="tests", **{"poll_seconds": 0.1, **options})


async def test_rolled_back_event_is_never_published(
    widgets_app: FastAPI, client: httpx.AsyncClient, tokens: TestTokens, topic_reader: TopicReader
) -> None:
    run = f"rb-{uuid.uuid4().hex[:8]}"
    headers = tokens.headers("psb-registrar", "psb", ["registrar"])
    refused = await client.post("/v1/widgets", json={"name": f"{run}-bad", "colour": "forbidden"}, headers=headers)
    assert refused.status_code == 409
    made = await client.post("/v1/widgets", json={"name": f"{run}-good", "colour": "blue"}, headers=headers)
    assert made.status_code == 201

    records = await topic_reader.read(
        WIDGET_TOPIC, until=lambda got: any(r.key == f"{run}-good" for r in got), settle=0.5
    )
    assert [r.key for r in of_run(records, run)] == [f"{run}-good"]
    async with widgets_app.state.engine.connect() as connection:
        stored = await connection.scalar(
            select(func.count()).select_from(outbox_event).where(outbox_event.c.key == f"{run}-bad")
        )
    assert stored == 0


async def test_committed_events_arrive_in_per_key_order(
    engine: AsyncEngine, infrastructure: Infrastructure, topic_reader: TopicReader
) -> None:
    run = f"order-{uuid.uuid4().hex[:8]}"
    counters = [f"{run}-{n}" for n in range(5)]
    ticks = [(counter, seq) for seq in range(40) for counter in counters]
    await write_ticks(engine, ticks)

    async with relaying(new_relay(engine, infrastructure.kafka, batch_size=37)):
        records = await topic_reader.read(TICK_TOPIC, until=lambda got: len(of_run(got, run)) >= len(ticks))
        await eventually(lambda: all_marked(engine, run))

    by_counter: dict[str, list[int]] = defaultdict(list)
    for record in of_run(records, run):
        by_counter[record.value["subject"]].append(record.value["data"]["seq"])
    assert by_counter == {counter: list(range(40)) for counter in counters}


class HangAfterDelivery:
    """A producer whose deliveries reach the broker, after which the relay never gets to mark them."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.delivered = asyncio.Event()

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def send(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        delivery = await self.producer.send(*args, **kwargs)

        async def acknowledged_then_dead() -> Any:
            await delivery
            self.delivered.set()
            await asyncio.Future()  # the process "dies" here: publish done, mark never happens

        return asyncio.ensure_future(acknowledged_then_dead())


async def test_relay_killed_between_publish_and_mark_loses_nothing(
    engine: AsyncEngine, infrastructure: Infrastructure, topic_reader: TopicReader, caplog: pytest.LogCaptureFixture
) -> None:
    run = f"kill-{uuid.uuid4().hex[:8]}"
    ticks = [(f"{run}-{n % 3}", n) for n in range(30)]
    await write_ticks(engine, ticks)

    doomed = HangAfterDelivery(create_producer(infrastructure.kafka, client_id="doomed"))
    relay = new_relay(engine, infrastructure.kafka, producer=doomed)  # type: ignore[arg-type]
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(doomed.delivered.wait(), 15)
    except TimeoutError:
        pending = await pending_rows(engine, run)
        raise AssertionError(
            f"no delivery acknowledged within 15 s; {pending} of {len(ticks)} rows pending; {relay_said(caplog)}"
        ) from None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await doomed.stop()
    assert await pending_rows(engine, run) == len(ticks), "nothing was marked, so everything is still pending"

    async with relaying(new_relay(engine, infrastructure.kafka)):
        records = await topic_reader.read(
            TICK_TOPIC,
            until=lambda got: {r.value["data"]["seq"] for r in of_run(got, run)} == set(range(30)),
            settle=1.0,
        )
        await eventually(lambda: all_marked(engine, run))
    seqs = [r.value["data"]["seq"] for r in of_run(records, run)]
    assert set(seqs) == set(range(30))
    assert len(seqs) > 30, "the events published before the kill arrive a second time"


@pytest.mark.slow
async def test_broker_outage_delays_but_does_not_lose_events(
    engine: AsyncEngine, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The outage is a proxy cut, not a broker restart: the embedded broker keeps topics in memory, and a restarted
    # one is a new, empty broker, which acknowledged a retried batch for a topic it no longer had and then served
    # no such topic (seen in 1 of 8 runs). A real broker comes back with its topics, as this one does.
    caplog.set_level(logging.INFO, logger="onesource.kit")
    door = find_free_port()
    broker = EmbeddedKafka(port=find_free_port(), advertised_port=door, log_path=tmp_path / "tansu.log")
    broker.start()
    proxy = TcpProxy(door, broker.host, broker.port)
    await proxy.start()
    kafka = KafkaSettings(bootstrap=f"127.0.0.1:{door}", idempotence=False, request_timeout_ms=3000)
    reader = TopicReader(kafka.bootstrap)
    run = f"outage-{uuid.uuid4().hex[:8]}"
    try:
        async with relaying(new_relay(engine, kafka)):
            await write_ticks(engine, [(f"{run}-a", n) for n in range(10)])
            before = await reader.read(TICK_TOPIC, until=lambda got: len(of_run(got, run)) >= 10)
            assert len(of_run(before, run)) == 10

            await proxy.cut()
            await write_ticks(engine, [(f"{run}-b", n) for n in range(25)])
            await asyncio.sleep(4)  # longer than the producer's request timeout: its batches expire
            assert await pending_rows(engine, f"{run}-b") == 25, "with the broker away nothing can be marked sent"
            assert relay_said(caplog) != "the relay logged nothing", "the relay noticed the outage"

            await proxy.start()
            try:
                after = await reader.read(TICK_TOPIC, until=lambda got: len(of_run(got, f"{run}-b")) >= 25, timeout=60)
            except TimeoutError as error:
                pending = await pending_rows(engine, f"{run}-b")
                raise AssertionError(
                    f"events not delivered after the outage; {pending} of 25 still pending; {relay_said(caplog)}; "
                    f"the broker's log: {log_tail(tmp_path / 'tansu.log', 15)}"
                ) from error
            # Marked once acknowledged, which may be just after the reader sees the events.
            await eventually(lambda: all_marked(engine, run))
        assert sorted(r.value["data"]["seq"] for r in of_run(after, f"{run}-b")) == list(range(25))
    finally:
        await proxy.stop()
        broker.stop()


async def test_two_relays_in_parallel_publish_each_event_once(
    engine: AsyncEngine, infrastructure: Infrastructure, topic_reader: TopicReader
) -> None:
    run = f"pair-{uuid.uuid4().hex[:8]}"
    ticks = [(f"{run}-{n % 30}", n) for n in range(300)]
    async with (
        relaying(new_relay(engine, infrastructure.kafka, batch_size=20)),
        relaying(new_relay(engine, infrastructure.kafka, batch_size=20)),
    ):
        # Two writers at once, each owning half the keys (as row locks would serialize writers of one record).
        await asyncio.gather(
            write_ticks(engine, [tick for tick in ticks if int(tick[0].rsplit("-", 1)[1]) < 15]),
            write_ticks(engine, [tick for tick in ticks if int(tick[0].rsplit("-", 1)[1]) >= 15]),
        )
        # settle: give a would-be duplicate time to show up
        records = await topic_reader.read(TICK_TOPIC, until=lambda got: len(of_run(got, run)) >= 300, settle=1.0)
    seqs = sorted(r.value["data"]["seq"] for r in of_run(records, run))
    assert seqs == list(range(300))
    by_counter: dict[str, list[int]] = defaultdict(list)
    for record in of_run(records, run):
        by_counter[record.value["subject"]].append(record.value["data"]["seq"])
    assert all(values == sorted(values) for values in by_counter.values()), "per-key order holds across relays"


async def test_trace_started_at_http_call_continues_into_the_event(
    widgets_app: FastAPI, client: httpx.AsyncClient, tokens: TestTokens, topic_reader: TopicReader
) -> None:
    trace_id = uuid.uuid4().hex
    name = f"traced-{uuid.uuid4().hex[:8]}"
    response = await client.post(
        "/v1/widgets",
        json={"name": name, "colour": "green"},
        headers={
            **tokens.headers("psb-registrar", "psb", ["registrar"]),
            "traceparent": f"00-{trace_id}-{'1' * 16}-01",
        },
    )
    assert response.status_code == 201
    records = await topic_reader.read(WIDGET_TOPIC, until=lambda got: any(r.key == name for r in got))
    (event,) = [r for r in records if r.key == name]
    assert event.headers["traceparent"].split("-")[1] == trace_id
    assert event.value["type"] == "gov.onesource.test.widget.made.v1"
    assert event.value["specversion"] == "1.0"
    assert event.value["subject"] == name
    assert event.value["data"] == {"name": name, "colour": "green"}


# Deferred events: a bulk load writes one row per shard naming many keys; the relay has a renderer write the events.
DEFERRED_TICKS = "tests.deferred-ticks"


async def render_ticks(connection: AsyncConnection, deferred: outbox.Deferred) -> list[outbox.Message]:
    """One ``Ticked`` per key with the deferral's ``seq``; ids derived from the load, as a real renderer's must be."""
    at = datetime.fromisoformat(deferred.details["at"])
    writer = EnvelopeWriter(Ticked, at)
    messages = []
    for key in deferred.keys:
        event_id = derived_event_id(at, deferred.details["load"], key)
        _, payload = writer(key, json.dumps({"counter": key, "seq": deferred.details["seq"]}), event_id)
        messages.append(outbox.Message(event_id, key, payload))
    return messages


async def defer_ticks(engine: AsyncEngine, counters: list[str], seq: int, *, renderer: str = DEFERRED_TICKS) -> None:
    async with sessionmaker_for(engine)() as session, session.begin():
        details = {"load": uuid.uuid4().hex, "at": datetime.now(UTC).isoformat(), "seq": seq}
        await outbox.add_deferred(session, renderer, TICK_TOPIC, counters, details)


async def test_deferred_rows_are_one_per_shard_and_name_their_keys_in_order(engine: AsyncEngine) -> None:
    counters = [f"shards-{uuid.uuid4().hex[:8]}-{n}" for n in range(100)]
    await defer_ticks(engine, counters, 0)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(outbox_event.c.shard, outbox_event.c.payload, outbox_event.c.renderer).where(
                    outbox_event.c.key.in_(counters)
                )
            )
        ).all()
    assert {row.renderer for row in rows} == {DEFERRED_TICKS}
    assert len(rows) == len({outbox.shard_of(counter) for counter in counters}), "one row per shard of the keys"
    for row in rows:
        # stored past the shards relays of earlier releases claim, which would publish the key list as an event
        assert row.shard >= outbox.SHARDS
        assert {outbox.shard_of(key) for key in row.payload["keys"]} == {row.shard - outbox.SHARDS}
    named = [key for row in rows for key in row.payload["keys"]]
    assert sorted(named) == sorted(counters)
    for row in rows:  # in the order they were given
        assert row.payload["keys"] == [counter for counter in counters if counter in set(row.payload["keys"])]


async def test_deferred_events_keep_their_place_among_the_keys_other_events(
    engine: AsyncEngine, infrastructure: Infrastructure, topic_reader: TopicReader
) -> None:
    run = f"defer-{uuid.uuid4().hex[:8]}"
    counters = [f"{run}-{n}" for n in range(40)]
    await write_ticks(engine, [(counter, 0) for counter in counters])
    await defer_ticks(engine, counters, 1)
    await write_ticks(engine, [(counter, 2) for counter in counters])

    relay = new_relay(engine, infrastructure.kafka, batch_size=7, renderers={DEFERRED_TICKS: render_ticks})
    async with relaying(relay):
        records = await topic_reader.read(TICK_TOPIC, until=lambda got: len(of_run(got, run)) >= 3 * len(counters))
        await eventually(lambda: all_marked(engine, run))

    by_counter: dict[str, list[int]] = defaultdict(list)
    for record in of_run(records, run):
        assert record.key == record.value["subject"]
        by_counter[record.value["subject"]].append(record.value["data"]["seq"])
    assert by_counter == {counter: [0, 1, 2] for counter in counters}
    deferred = [record.value for record in of_run(records, run) if record.value["data"]["seq"] == 1]
    assert all(uuid.UUID(event["id"]).version == 7 for event in deferred)
    assert len({event["id"] for event in deferred}) == len(counters)


async def test_deferred_events_published_again_keep_their_ids(
    engine: AsyncEngine, infrastructure: Infrastructure, topic_reader: TopicReader, caplog: pytest.LogCaptureFixture
) -> None:
    run = f"redefer-{uuid.uuid4().hex[:8]}"
    counters = [f"{run}-{n}" for n in range(30)]
    await defer_ticks(engine, counters, 7)
    renderers = {DEFERRED_TICKS: render_ticks}

    doomed = HangAfterDelivery(create_producer(infrastructure.kafka, client_id="doomed-deferred"))
    relay = new_relay(engine, infrastructure.kafka, producer=doomed, renderers=renderers)  # type: ignore[arg-type]
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(doomed.delivered.wait(), 15)
    except TimeoutError:
        raise AssertionError(f"no delivery acknowledged within 15 s; {relay_said(caplog)}") from None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await doomed.stop()
    assert await pending_rows(engine, run) > 0, "nothing was marked"

    async with relaying(new_relay(engine, infrastructure.kafka, renderers=renderers)):
        await eventually(lambda: all_marked(engine, run))
    records = await topic_reader.read(
        TICK_TOPIC, until=lambda got: {r.key for r in of_run(got, run)} == set(counters), settle=1.0
    )
    ids_by_counter: dict[str, set[str]] = defaultdict(set)
    copies: dict[str, int] = defaultdict(int)
    for record in of_run(records, run):
        ids_by_counter[record.key or ""].add(record.value["id"])
        copies[record.key or ""] += 1
    assert sum(copies.values()) > len(counters), "the events published before the kill arrive a second time"
    assert all(len(ids) == 1 for ids in ids_by_counter.values()), "every copy of an event has the same id"


async def test_a_row_that_cannot_be_rendered_holds_up_only_its_own_shard(
    engine: AsyncEngine, infrastructure: Infrastructure, topic_reader: TopicReader, caplog: pytest.LogCaptureFixture
) -> None:
    run = f"stuck-{uuid.uuid4().hex[:8]}"
    stuck = f"{run}-stuck"
    same_shard = [
        key for key in (f"{run}-s{n}" for n in range(2000)) if outbox.shard_of(key) == outbox.shard_of(stuck)
    ][:3]
    elsewhere = [f"{run}-o{n}" for n in range(60) if outbox.shard_of(f"{run}-o{n}") != outbox.shard_of(stuck)]
    await write_ticks(engine, [(key, 0) for key in same_shard])  # before the stuck row: published
    await defer_ticks(engine, [stuck], 1, renderer="tests.missing-renderer")
    await write_ticks(engine, [(key, 1) for key in same_shard])  # after it, same shard: held back, in order
    await write_ticks(engine, [(key, 0) for key in elsewhere])  # other shards: published all the same

    async with relaying(new_relay(engine, infrastructure.kafka, renderers={DEFERRED_TICKS: render_ticks})):
        records = await topic_reader.read(
            TICK_TOPIC, until=lambda got: len(of_run(got, run)) >= len(elsewhere) + len(same_shard), settle=1.0
        )
        assert await pending_rows(engine, run) == 1 + len(same_shard), "the stuck row and what follows it in its shard"
    seen = [(r.key, r.value["data"]["seq"]) for r in of_run(records, run)]
    assert sorted(seen) == sorted([*((key, 0) for key in elsewhere), *((key, 0) for key in same_shard)])
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "could not be rendered" in r.getMessage()]
    assert len(errors) == 1, "logged once, not at every pass"


async def test_two_relays_publish_deferred_and_plain_events_once_each_and_in_order(
    engine: AsyncEngine, infrastructure: Infrastructure, topic_reader: TopicReader
) -> None:
    run = f"pair-deferred-{uuid.uuid4().hex[:8]}"
    counters = [f"{run}-{n}" for n in range(80)]
    renderers = {DEFERRED_TICKS: render_ticks}
    async with (
        relaying(new_relay(engine, infrastructure.kafka, batch_size=5, renderers=renderers)),
        relaying(new_relay(engine, infrastructure.kafka, batch_size=5, renderers=renderers)),
    ):
        for seq in range(0, 6, 2):  # plain, deferred, plain, deferred …
            await write_ticks(engine, [(counter, seq) for counter in counters])
            await defer_ticks(engine, counters, seq + 1)
        records = await topic_reader.read(
            TICK_TOPIC, until=lambda got: len(of_run(got, run)) >= 6 * len(counters), settle=1.0
        )
    by_counter: dict[str, list[int]] = defaultdict(list)
    for record in of_run(records, run):
        by_counter[record.value["subject"]].append(record.value["data"]["seq"])
    assert by_counter == {counter: list(range(6)) for counter in counters}, "each once, in order, across two relays"


async def test_a_deferred_row_without_its_renderer_waits_for_a_relay_that_has_it(
    engine: AsyncEngine, infrastructure: Infrastructure, topic_reader: TopicReader, caplog: pytest.LogCaptureFixture
) -> None:
    run = f"norender-{uuid.uuid4().hex[:8]}"
    counters = [f"{run}-{n}" for n in range(5)]
    await defer_ticks(engine, counters, 3)

    async def refused() -> bool:
        return any("renderer" in record.getMessage() for record in caplog.records)

    async with relaying(new_relay(engine, infrastructure.kafka)):  # an older release: it lacks the renderer
        await eventually(refused)
        assert await pending_rows(engine, run) > 0, "left for a relay that can render it, not marked"
    assert any(record.levelno == logging.ERROR for record in caplog.records if "renderer" in record.getMessage())

    async with relaying(new_relay(engine, infrastructure.kafka, renderers={DEFERRED_TICKS: render_ticks})):
        records = await topic_reader.read(TICK_TOPIC, until=lambda got: len(of_run(got, run)) >= len(counters))
        await eventually(lambda: all_marked(engine, run))
    assert sorted(r.key or "" for r in of_run(records, run)) == sorted(counters)


async def test_a_renderer_that_writes_other_keys_is_refused(engine: AsyncEngine) -> None:
    run = f"wrongkeys-{uuid.uuid4().hex[:8]}"
    first = f"{run}-a"
    second = next(f"{run}-{n}" for n in range(1000) if outbox.shard_of(f"{run}-{n}") == outbox.shard_of(first))
    await defer_ticks(engine, [first, second], 0)  # one row: the two keys share a shard

    async def render_one_too_few(connection: AsyncConnection, deferred: outbox.Deferred) -> list[outbox.Message]:
        return (await render_ticks(connection, deferred))[:-1]

    async with engine.connect() as connection:
        [row] = (await connection.execute(outbox.rows_query().where(outbox_event.c.key == first))).all()
        with pytest.raises(ValueError, match="one event per key"):
            await outbox.rendered(connection, row, {DEFERRED_TICKS: render_one_too_few})
        assert len(await outbox.rendered(connection, row, {DEFERRED_TICKS: render_ticks})) == 2


async def test_a_pass_is_bounded_by_events_and_the_next_one_follows_at_once(
    engine: AsyncEngine, infrastructure: Infrastructure, topic_reader: TopicReader
) -> None:
    run = f"bound-{uuid.uuid4().hex[:8]}"
    counters = [f"{run}-{n}" for n in range(200)]
    for seq in range(3):
        await defer_ticks(engine, counters, seq)  # 3 deferrals of 200 keys: about 48 rows of a dozen events each
    renderers = {DEFERRED_TICKS: render_ticks}

    probe = new_relay(engine, infrastructure.kafka, batch_size=2, renderers=renderers)  # 32 events a pass
    try:
        first = await probe.relay_once()
    finally:
        await probe.stop()
    assert 32 <= first < 32 + 40, "a pass stops at the first row past its bound"
    assert 0 < await pending_rows(engine, run), "the rows beyond the bound wait for the next pass"

    # A relay that waited its poll (an hour) between passes that ended at the bound would never finish here.
    async with relaying(new_relay(engine, infrastructure.kafka, batch_size=2, renderers=renderers, poll_seconds=3600)):
        records = await topic_reader.read(TICK_TOPIC, until=lambda got: len(of_run(got, run)) >= 3 * len(counters))
        await eventually(lambda: all_marked(engine, run))
    by_counter: dict[str, list[int]] = defaultdict(list)
    for record in of_run(records, run):
        by_counter[record.value["subject"]].append(record.value["data"]["seq"])
    assert by_counter == {counter: [0, 1, 2] for counter in counters}
