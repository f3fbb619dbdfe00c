"""A registry's hot paths against the physical frame: the smallest app doing the same work on the same machine.

Both run as real HTTP servers (uvicorn, one process each) over the same database, driven by the same light load
generator (``loadgen``) at the same concurrency, alternating, in the same run:

- read by key: ``GET /v1/persons/{id}`` through population-db (token check, owner check, the record's API shape,
  ``ETag``, request id and metrics middleware) against ``frame_app`` answering the same row as JSON (FastAPI +
  asyncpg, no auth, no ORM, no middleware);
- write: read then ``PATCH`` with ``If-Match`` (the registry: token, rules, version row, the event in the outbox, the
  transaction committed before the answer) against ``frame_app`` running the same SQL in one transaction;
- while 32 writers keep population's API busy, change events go from commit to a consumer through the relay
  process (``kit.relaying``, as the mesh and ``deploy/`` run it): p99 from each event's ``time`` (taken in the
  writing transaction, before its commit) to its arrival — an upper bound of commit → broker.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from rich.console import Console

import onesource.population
from onesource.kit.db import create_engine
from onesource.kit.kafka import start_client
from onesource.kit.migrations import service_migrations_dir
from onesource.kit.testing.plugin import Infrastructure, prepare_service_database
from onesource.kit.testing.tokens import TestTokens
from onesource.population.demo import PersonFactory
from onesource.population.imports.repository import PERSON_COLUMNS
from onesource.population.persons.events import PERSON_TOPIC
from tests.bench.harness import Row, Table, percentile
from tests.bench.loadgen import Connection, Run, closed_loop
from tests.bench.population import _records
from tests.bench.serving import jwks_server, served

PERSONS = 20_000
CONCURRENCY = 16
WRITERS = 32
SECONDS = 6.0
ROUNDS = 3
WARM_UP_SECONDS = 2.0


async def _load(dsn: str) -> list[str]:
    """Load the persons; the ID numbers of the living ones (a deceased person's record no longer changes)."""
    people = list(PersonFactory(seed=11).persons(PERSONS))
    engine = create_engine(dsn)
    async with engine.begin() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.copy_records_to_table("person", records=_records(people), columns=PERSON_COLUMNS)
    await engine.dispose()
    return [person["id_number"] for person in people if not person.get("death_date")]


def _reads(ids: list[str], headers: dict[str, str]) -> Any:
    async def work(connection: Connection, number: int) -> bool:
        answer = await connection.request("GET", f"/v1/persons/{ids[number % len(ids)]}", headers)
        return answer.status == 200

    return work


def _writes(ids: list[str], headers: dict[str, str], writers: int) -> Any:
    """Read a person, then change its address under ``If-Match``; each writer has its own persons (no 412)."""
    per_writer = len(ids) // writers

    async def work(connection: Connection, number: int) -> bool:
        writer, iteration = divmod(number, 1_000_000)
        id_number = ids[(writer % writers) * per_writer + iteration % per_writer]
        read = await connection.request("GET", f"/v1/persons/{id_number}", headers)
        if read.status != 200:
            return False
        body = json.dumps({"household_address": f"地址{uuid.uuid4().hex[:12]}"}).encode()
        etag = read.headers.get(b"etag") or f'"{json.loads(read.body)["version"]}"'.encode()
        changed = await connection.request(
            "PATCH",
            f"/v1/persons/{id_number}",
            {**headers, "If-Match": etag.decode(), "Content-Type": "application/json"},
            body,
        )
        return changed.status == 200

    return work


async def _alternate(
    console: Console, label: str, work: tuple[Any, Any], ports: tuple[int, int], concurrency: int
) -> tuple[list[Run], list[Run]]:
    """``ROUNDS`` rounds of the registry and the frame, alternating which goes first; each warmed up first."""
    registry_runs: list[Run] = []
    frame_runs: list[Run] = []
    for port, unit in zip(ports, work, strict=True):
        await closed_loop("127.0.0.1", port, unit, concurrency=concurrency, seconds=WARM_UP_SECONDS)
    for round_ in range(ROUNDS):
        order = [(0, registry_runs), (1, frame_runs)]
        for side, runs in order if round_ % 2 == 0 else reversed(order):
            run = await closed_loop("127.0.0.1", ports[side], work[side], concurrency=concurrency, seconds=SECONDS)
            assert run.failures == 0, f"{label}: {run.failures} failed"
            runs.append(run)
        console.print(
            f"{label} round {round_ + 1}: registry {registry_runs[-1].rate:,.0f}/s, frame {frame_runs[-1].rate:,.0f}/s"
        )
    return registry_runs, frame_runs


def _median_rate(runs: list[Run]) -> float:
    return statistics.median(run.rate for run in runs)


async def _drained(dsn: str, timeout: float = 120.0) -> None:
    """Wait until the relay has published every pending outbox row (the write rounds' events, made while no relay
    ran): the latency phase then measures only its own events, not that backlog."""
    connection = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        deadline = time.monotonic() + timeout
        while await connection.fetchval("SELECT count(*) FROM outbox_event WHERE published_at IS NULL"):
            if time.monotonic() > deadline:
                raise RuntimeError("the relay did not publish the write rounds' events")
            await asyncio.sleep(0.2)
    finally:
        await connection.close()


async def _event_latencies(bootstrap: str, seconds: float, settle: float, since: float) -> list[float]:
    """Seconds from each person event's ``time`` to its arrival, for events made after ``since`` (epoch seconds)
    arriving in the next ``seconds``."""
    consumer = AIOKafkaConsumer(
        PERSON_TOPIC,
        bootstrap_servers=bootstrap,
        auto_offset_reset="latest",
        enable_auto_commit=False,
        fetch_max_wait_ms=10,  # the stopwatch, as in outbox.py: the broker must not hold its fetches
    )
    await start_client(consumer)
    latencies: list[float] = []
    try:
        await consumer.seek_to_end()
        deadline = time.monotonic() + seconds + settle
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            arrived = time.time()
            for records in batch.values():
                for record in records:
                    event = json.loads(record.value or b"{}")
                    sent = event.get("time", "")
                    if sent and _epoch(sent) >= since:
                        latencies.append(arrived - _epoch(sent))
    finally:
        await consumer.stop()
    return latencies


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def bench_frame(servers: Infrastructure, console: Console) -> Table:
    dsn = await prepare_service_database(
        servers, "population-frame", service_migrations_dir(onesource.population.__file__)
    )
    ids = await _load(dsn)
    tokens = TestTokens()
    registrar = {"Authorization": "Bearer " + tokens.issue("psb-registrar", "psb", ["registrar"], lifetime=3600)}
    scratch = Path(dsn.rsplit("/", 1)[-1])
    logs = Path("/tmp") / f"onesource-bench-{scratch}"
    logs.mkdir(exist_ok=True)
    table = Table(
        "Registry against the physical frame",
        f"population-db and the frame (`tests/bench/frame_app.py`: FastAPI + asyncpg, no auth, no ORM, no middleware) "
        f"as uvicorn servers, one process each, on the same database of {PERSONS:,} persons; the load generator "
        f"`tests/bench/loadgen.py` (raw HTTP/1.1 keep-alive) at concurrency {CONCURRENCY}; {ROUNDS} alternating rounds "
        f"of {SECONDS:.0f} s after a warm-up, medians. Write: GET then PATCH with If-Match (the registry also writes "
        f"the version row and the event in the outbox; the frame runs the same SQL in one transaction). Events: "
        f"{WRITERS} writers on the registry for {SECONDS:.0f} s while the relay process (`kit.relaying`) publishes; "
        "latency from each event's time (taken before its commit) to a consumer.",
    )
    with jwks_server(tokens) as auth:
        env = {
            **auth,
            "ONESOURCE_ENVIRONMENT": "test",
            "ONESOURCE_POPULATION_DATABASE_URL": dsn,
            "ONESOURCE_POPULATION_RELAY_ENABLED": "false",
            "ONESOURCE_POPULATION_IMPORT_WORKERS": "1",
            "ONESOURCE_KAFKA_BOOTSTRAP": servers.kafka.bootstrap,
            "ONESOURCE_KAFKA_IDEMPOTENCE": str(servers.kafka.idempotence).lower(),
        }
        frame_env = {"FRAME_DSN": dsn.replace("postgresql+asyncpg://", "postgresql://", 1)}
        with (
            served("onesource.population.main:create_app", env, logs / "population.log") as registry_port,
            served("tests.bench.frame_app:create_app", frame_env, logs / "frame.log") as frame_port,
        ):
            ports = (registry_port, frame_port)
            reads = await _alternate(
                console, "read by key", (_reads(ids, registrar), _reads(ids, {})), ports, CONCURRENCY
            )
            writes = await _alternate(
                console,
                "write",
                (_writes(ids, registrar, CONCURRENCY), _writes(ids, {}, CONCURRENCY)),
                ports,
                CONCURRENCY,
            )
            relay_env = {**env, "ONESOURCE_RELAY_APPS": "onesource.population.main:create_app"}
            with served("onesource.kit.relaying:create_app", relay_env, logs / "relay.log", ready_path="/readyz"):
                await _drained(dsn)
                since = time.time()
                listening = asyncio.create_task(
                    _event_latencies(servers.kafka.bootstrap, SECONDS, settle=2.0, since=since)
                )
                await asyncio.sleep(1.0)  # the consumer has its partitions before the writers start
                loaded = await closed_loop(
                    "127.0.0.1",
                    registry_port,
                    _writes(ids, registrar, WRITERS),
                    concurrency=WRITERS,
                    seconds=SECONDS,
                )
                latencies = await listening
    for label, (registry_runs, frame_runs), target in (
        ("read by key", reads, 0.5),
        ("write (GET + If-Match PATCH)", writes, 0.5),
    ):
        registry_rate, frame_rate = _median_rate(registry_runs), _median_rate(frame_runs)
        unit = "reads/s" if label == "read by key" else "writes/s"
        table.rows.append(
            Row(
                f"{label}, throughput",
                f"{registry_rate:,.0f} {unit}",
                f"{frame_rate:,.0f} {unit} frame",
                f"{registry_rate / frame_rate:.0%}",
                f"≥ {target:.0%}",
                registry_rate / frame_rate >= target,
            )
        )
        registry_p50 = statistics.median(percentile(run.latencies, 0.5) for run in registry_runs)
        frame_p50 = statistics.median(percentile(run.latencies, 0.5) for run in frame_runs)
        table.rows.append(
            Row(f"{label}, p50", f"{registry_p50 * 1000:.2f} ms", f"{frame_p50 * 1000:.2f} ms frame", "—", "—", None)
        )
    p99 = percentile(latencies, 0.99)
    table.rows.append(
        Row(
            f"event commit → consumer p99, {WRITERS} writers",
            f"{p99 * 1000:.1f} ms",
            f"{loaded.rate:,.0f} writes/s, {len(latencies):,} events",
            "—",
            "≤ 100 ms",
            p99 <= 0.1 and len(latencies) >= len(loaded.latencies),
        )
    )
    table.rows.append(
        Row(
            "event commit → consumer p50",
            f"{percentile(latencies, 0.5) * 1000:.1f} ms",
            "—",
            "—",
            "—",
            None,
        )
    )
    return table
