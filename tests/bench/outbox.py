"""Outbox relay against the raw producer, and commit → broker latency at a steady 1,000 events/s.

Targets (DESIGN.md): relay ≥ 50% of the raw producer rate; commit → acknowledgement p99 ≤ 100 ms at
≥ 1,000 events/s. Latency is measured end to end — from the event's creation inside the writing transaction
to its arrival at a consumer — which bounds commit → broker acknowledgement from above.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import ClassVar

from aiokafka import AIOKafkaConsumer
from rich.console import Console
from rich.progress import Progress, TaskID
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from onesource.kit import outbox
from onesource.kit.db import create_engine, sessionmaker_for
from onesource.kit.events import DomainEvent
from onesource.kit.kafka import create_producer, ensure_topics
from onesource.kit.outbox import OutboxRelay, shard_of
from onesource.kit.tables import kit_metadata, outbox_event
from tests.bench.harness import BenchServers, Row, Table, percentile

EVENTS = 20_000
RATE = 1_000  # events per second for the latency run
SECONDS = 10
PER_TRANSACTION = 5
WRITERS = 4  # concurrent writers, as concurrent requests would be


class Measured(DomainEvent):
    event_type: ClassVar[str] = "gov.onesource.bench.reading.measured.v1"
    topic: ClassVar[str] = "onesource.bench.reading.v1"
    source: ClassVar[str] = "/onesource/bench"
    station: str
    seq: int
    note: str = "东城区 — 基准测试负载 benchmark payload of realistic size " * 3

    def subject(self) -> str:
        return self.station


async def bench_outbox(servers: BenchServers, console: Console) -> Table:
    dsn = await servers.recreate_database("bench_outbox")
    engine = create_engine(dsn, pool_size=10)
    async with engine.begin() as connection:
        await connection.run_sync(kit_metadata.create_all)
    kafka = servers.kafka
    events = [Measured(station=f"station-{n % 1000}", seq=n) for n in range(EVENTS)]
    envelopes = [event.to_cloudevent() for event in events]

    # Baseline: the same messages straight to the broker with the same producer settings.
    raw_topic = "onesource.bench.raw.v1"
    await ensure_topics(kafka, [raw_topic, Measured.topic], client_id="bench")
    producer = create_producer(kafka, client_id="bench-raw")
    await producer.start()
    try:
        started = time.perf_counter()
        for offset in range(0, EVENTS, 500):
            deliveries = [
                await producer.send(raw_topic, key=envelope.subject.encode(), value=envelope.model_dump_json().encode())
                for envelope in envelopes[offset : offset + 500]
            ]
            await asyncio.gather(*deliveries)
        raw_rate = EVENTS / (time.perf_counter() - started)
    finally:
        await producer.stop()
    console.print(f"raw producer: {raw_rate:,.0f} events/s")

    # The relay draining a backlog of the same events.
    async with engine.begin() as connection:
        for offset in range(0, EVENTS, 2000):
            await connection.execute(
                insert(outbox_event),
                [
                    {
                        "event_id": envelope.id,
                        "topic": Measured.topic,
                        "key": envelope.subject,
                        "shard": shard_of(envelope.subject),
                        "payload": envelope.model_dump(mode="json"),
                        "trace_context": {},
                    }
                    for envelope in envelopes[offset : offset + 2000]
                ],
            )
    relay = OutboxRelay(engine, kafka, service="bench", batch_size=500)
    try:
        await relay.relay_once()  # warm up: producer started, topics known
        started = time.perf_counter()
        published = 0
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("relay draining backlog", total=EVENTS)
            while published < EVENTS:
                count = await relay.relay_once()
                if count == 0:
                    break
                published += count
                progress.update(task, completed=published)
        relay_rate = published / (time.perf_counter() - started)
    finally:
        await relay.stop()
    console.print(f"relay: {relay_rate:,.0f} events/s")

    latencies, achieved = await _latency_run(engine, servers, dsn, console)
    await engine.dispose()

    p50, p99 = percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000
    ratio = relay_rate / raw_rate
    return Table(
        title="Outbox relay",
        description=(
            f"{EVENTS:,} CloudEvents (~{len(envelopes[0].model_dump_json())} bytes) keyed over 1,000 subjects, "
            f"acks=all. Latency: {SECONDS} s of writers committing {PER_TRANSACTION} events per transaction at a "
            f"{RATE:,}/s target, relay woken by LISTEN/NOTIFY, measured creation → arrival at a consumer."
        ),
        rows=[
            Row(
                "relay throughput",
                f"{relay_rate:,.0f} ev/s",
                f"{raw_rate:,.0f} ev/s raw producer",
                f"{ratio:.0%}",
                "≥ 50%",
                ratio >= 0.5,
            ),
            Row("sustained write rate", f"{achieved:,.0f} ev/s", "—", "—", f"≥ {RATE:,} ev/s", achieved >= RATE * 0.95),
            Row("commit → consumer p50", f"{p50:.1f} ms", "—", "—", "—", None),
            Row("commit → consumer p99", f"{p99:.1f} ms", "—", "—", "≤ 100 ms", p99 <= 100),
        ],
    )


async def _latency_run(engine: object, servers: BenchServers, dsn: str, console: Console) -> tuple[list[float], float]:

    assert isinstance(engine, AsyncEngine)
    sessions = sessionmaker_for(engine)
    relay = OutboxRelay(
        engine,
        servers.kafka,
        service="bench",
        listen_dsn=dsn.replace("postgresql+asyncpg://", "postgresql://", 1),
        poll_seconds=1.0,
    )
    relay_task = asyncio.create_task(relay.run())
    consumer = AIOKafkaConsumer(
        Measured.topic, bootstrap_servers=servers.kafka.bootstrap, auto_offset_reset="latest", enable_auto_commit=False
    )
    await consumer.start()
    await asyncio.sleep(1)  # let the relay drain what is left and the consumer settle on the end of the topic
    arrivals: dict[str, float] = {}
    created: dict[str, float] = {}

    async def consume() -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.time()
            for messages in batches.values():
                for message in messages:
                    arrivals.setdefault(json.loads(message.value)["id"], now)

    consumer_task = asyncio.create_task(consume())
    written = 0
    started = time.perf_counter()
    per_writer = RATE * SECONDS // WRITERS

    async def writer(number: int, progress: Progress, task: TaskID) -> None:
        nonlocal written
        interval = PER_TRANSACTION * WRITERS / RATE
        next_at = time.perf_counter()
        for start in range(0, per_writer, PER_TRANSACTION):
            async with sessions() as session, session.begin():
                ids = [
                    await outbox.add(session, Measured(station=f"station-{(seq + number) % 1000}", seq=seq))
                    for seq in range(start, start + PER_TRANSACTION)
                ]
            committed = time.time()
            created.update(dict.fromkeys(ids, committed))
            written += PER_TRANSACTION
            progress.update(task, completed=written)
            next_at += interval
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"{WRITERS} writers at {RATE}/s in all", total=per_writer * WRITERS)
        await asyncio.gather(*(writer(number, progress, task) for number in range(WRITERS)))
    achieved = written / (time.perf_counter() - started)
    deadline = time.monotonic() + 30
    while len(set(created) & set(arrivals)) < len(created) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    consumer_task.cancel()
    relay_task.cancel()
    for background in (consumer_task, relay_task):
        with contextlib.suppress(asyncio.CancelledError):
            await background
    await consumer.stop()
    await relay.stop()
    async with engine.connect() as connection:
        pending = await connection.scalar(
            select(func.count()).select_from(outbox_event).where(outbox_event.c.published_at.is_(None))
        )
    missing = len(set(created) - set(arrivals))
    console.print(f"latency run: wrote {written} at {achieved:,.0f}/s; {missing} not seen, {pending} pending")
    return [arrivals[event_id] - when for event_id, when in created.items() if event_id in arrivals], achieved
