"""Population registry: bulk import against a raw bulk load of the same rows; read-by-id through its API.

Import target (DESIGN.md): ≥ 50% of the raw database bulk-load rate for the same rows. The raw load is ``COPY`` of
already-typed records into the same ``person`` table with the same indexes — no parsing, no validation, no
history, no events. The import parses the CSV as it streams in over HTTP, validates every row, and writes the
person and its deferred ``person.registered`` event (a few outbox rows per block, ``imports.events``) in one
transaction. Both run alternately on freshly emptied tables after a checkpoint, the order swapping every round,
five rounds each; every round and the medians are reported. A second measurement shows what deferring costs at
publication: the relay publishing one import's deferred events (rendered from the persons as it goes) against the
same events as ready outbox rows.

The benchmark's own fixtures (the persons, their CSV, the typed records) live in the server's process only because
the client runs in it; they are frozen out of the garbage collector, or every full collection the import's
allocations trigger would walk them — work a server holding only its own objects never does.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
from pydantic import SecretStr
from rich.console import Console
from sqlalchemy import func, text

import onesource.population
from onesource.kit import outbox
from onesource.kit.db import create_engine
from onesource.kit.migrations import service_migrations_dir
from onesource.kit.outbox import OutboxRelay
from onesource.kit.settings import KafkaSettings
from onesource.kit.tables import outbox_event
from onesource.kit.testing.plugin import Infrastructure, prepare_service_database, running_app
from onesource.kit.testing.tokens import TestTokens
from onesource.population.demo import PersonFactory, to_csv
from onesource.population.imports.repository import PERSON_COLUMNS
from onesource.population.main import RENDERERS, create_app
from onesource.population.persons.events import PERSON_TOPIC
from onesource.population.settings import Settings
from tests.bench.harness import Row, Table, percentile

ROWS = 100_000
ROUNDS = 5
RELAY_ROWS = 40_000
RELAY_ROUNDS = 2
READS = 3_000
CONCURRENCY = 8


def _records(people: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    records = []
    for person in people:
        typed = {**person}
        typed["birth_date"] = date.fromisoformat(person["birth_date"])
        death = person.get("death_date")
        typed["death_date"] = date.fromisoformat(death) if death else None
        typed["deceased"] = death is not None
        records.append(tuple(typed.get(column) for column in PERSON_COLUMNS))
    return records


async def _empty(engine: Any) -> None:
    """Empty the tables and write a checkpoint, so every load starts from the same state."""
    async with engine.begin() as connection:
        await connection.execute(
            text("TRUNCATE person, person_version, person_import, person_import_error, outbox_event")
        )
    async with engine.connect() as connection:
        await connection.execute(text("CHECKPOINT"))


async def bench_population(servers: Infrastructure, console: Console) -> Table:
    try:
        return await _bench_population(servers, console)
    finally:
        gc.unfreeze()


async def _bench_population(servers: Infrastructure, console: Console) -> Table:
    dsn = await prepare_service_database(
        servers, "population-bench", service_migrations_dir(onesource.population.__file__)
    )
    tokens = TestTokens()
    settings = Settings(
        environment="test",
        database_url=SecretStr(dsn),
        kafka=servers.kafka,
        relay_enabled=False,
        owner_department="psb",
    )
    registrar = tokens.headers("psb-registrar", "psb", ["registrar"])
    people = list(PersonFactory(seed=7).persons(ROWS))
    body = b"".join(to_csv(people))
    records = _records(people)
    gc.collect()
    gc.freeze()  # the fixtures are the client's (see the module docstring)
    engine = create_engine(dsn)
    raw_seconds: list[float] = []
    import_seconds: list[float] = []
    table = Table(
        "Population registry",
        f"Bulk import of {ROWS:,} synthetic persons as CSV ({len(body) / 1e6:.1f} MB) streamed over HTTP in 64 KiB "
        f"chunks, against `COPY` of the same rows, already typed, into the same table; {ROUNDS} alternating rounds "
        "(each after emptying the tables and a checkpoint), medians. "
        f"Reads: {READS:,} `GET /v1/persons/{{id}}` at concurrency {CONCURRENCY} against a `SELECT` by "
        "primary key on a pooled connection at the same concurrency. "
        f"Relay: {RELAY_ROUNDS} alternating rounds of publishing one import's {RELAY_ROWS:,} deferred events "
        "(rendered from the persons by the relay as it goes) against the same events as ready outbox rows, medians.",
    )
    async with running_app(create_app(settings), tokens) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://population", timeout=600) as client:
            for round_ in range(ROUNDS):
                # Alternate which goes first, so that neither always runs on the warmer (or busier) machine.
                for load in (_raw, _import) if round_ % 2 == 0 else (_import, _raw):
                    await _empty(engine)
                    if load is _raw:
                        raw_seconds.append(await _raw(engine, records))
                    else:
                        import_seconds.append(await _import(client, registrar, body))
                console.print(
                    f"round {round_ + 1}: raw COPY {ROWS / raw_seconds[-1]:,.0f} rows/s, "
                    f"import {ROWS / import_seconds[-1]:,.0f} rows/s, "
                    f"ratio {raw_seconds[-1] / import_seconds[-1]:.0%}"
                )
            raw_rate = ROWS / statistics.median(raw_seconds)
            import_rate = ROWS / statistics.median(import_seconds)
            ratio = import_rate / raw_rate
            table.rows.append(
                Row(
                    "bulk import",
                    f"{import_rate:,.0f} rows/s",
                    f"{raw_rate:,.0f} rows/s raw COPY",
                    f"{ratio:.0%}",
                    "≥ 50%",
                    ratio >= 0.5,
                )
            )
            ids = [person["id_number"] for person in people[:READS]]
            api = await _reads(lambda id_number: _api_read(client, registrar, id_number), ids)
            direct = await _reads(lambda id_number: _sql_read(engine, id_number), ids)
            table.rows.append(
                Row(
                    "read by id, throughput",
                    f"{api[0]:,.0f} reads/s",
                    f"{direct[0]:,.0f} reads/s SQL",
                    f"{api[0] / direct[0]:.0%}",
                    "—",
                    None,
                )
            )
            table.rows.append(
                Row("read by id, p50", f"{api[1] * 1000:.2f} ms", f"{direct[1] * 1000:.2f} ms", "—", "—", None)
            )
            table.rows.append(
                Row("read by id, p99", f"{api[2] * 1000:.2f} ms", f"{direct[2] * 1000:.2f} ms", "—", "—", None)
            )
            deferred, plain = await _relay_rounds(client, registrar, engine, servers.kafka, console)
            table.rows.append(
                Row(
                    "relay, an import's deferred events",
                    f"{deferred:,.0f} events/s",
                    f"{plain:,.0f} events/s as ready rows",
                    f"{deferred / plain:.0%}",
                    "—",
                    None,
                )
            )
    await engine.dispose()
    return table


async def _raw(engine: Any, records: list[tuple[Any, ...]]) -> float:
    """Seconds to ``COPY`` the typed records into ``person`` in one transaction."""
    started = time.perf_counter()
    async with engine.begin() as loading:
        driver = (await loading.get_raw_connection()).driver_connection
        await driver.copy_records_to_table("person", records=records, columns=PERSON_COLUMNS)
    return time.perf_counter() - started


async def _import(client: httpx.AsyncClient, registrar: dict[str, str], body: bytes, *, rows: int = ROWS) -> float:
    """Seconds to import ``body`` through the API, streamed in 64 KiB chunks."""

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    started = time.perf_counter()
    response = await client.post("/v1/imports", content=chunks(), headers={**registrar, "Content-Type": "text/csv"})
    seconds = time.perf_counter() - started
    report = response.json()
    assert response.status_code == 201, report
    assert report["accepted"] == rows, report
    return seconds


async def _relay_rounds(
    client: httpx.AsyncClient, registrar: dict[str, str], engine: Any, kafka: KafkaSettings, console: Console
) -> tuple[float, float]:
    """Events/s the relay publishes of an import's deferred events, and of the same events as ready outbox rows."""
    deferred_seconds: list[float] = []
    plain_seconds: list[float] = []
    for round_ in range(RELAY_ROUNDS):
        await _empty(engine)
        body = b"".join(to_csv(PersonFactory(seed=100 + round_).persons(RELAY_ROWS)))
        await _import(client, registrar, body, rows=RELAY_ROWS)
        async with engine.connect() as connection:  # the events the relay will write, as ready rows (not timed)
            pending = (await connection.execute(outbox.rows_query())).all()
            messages = [message for row in pending for message in await outbox.rendered(connection, row, RENDERERS)]
        for kind in ("deferred", "plain") if round_ % 2 == 0 else ("plain", "deferred"):
            if kind == "plain":
                async with engine.begin() as loading:
                    await loading.execute(text("DELETE FROM outbox_event WHERE renderer IS NULL"))
                    await loading.execute(  # hidden from the relay (marked published) while the ready rows go
                        outbox_event.update()
                        .where(outbox_event.c.renderer.is_not(None))
                        .values(published_at=func.now())
                    )
                    driver = (await loading.get_raw_connection()).driver_connection
                    await driver.copy_records_to_table(
                        "outbox_event",
                        records=[
                            (m.event_id, PERSON_TOPIC, m.key, outbox.shard_of(m.key), m.payload) for m in messages
                        ],
                        columns=("event_id", "topic", "key", "shard", "payload"),
                    )
                plain_seconds.append(await _drain(engine, kafka))
            else:
                async with engine.begin() as loading:
                    await loading.execute(text("DELETE FROM outbox_event WHERE renderer IS NULL"))
                    await loading.execute(
                        outbox_event.update().where(outbox_event.c.renderer.is_not(None)).values(published_at=None)
                    )
                deferred_seconds.append(await _drain(engine, kafka))
        console.print(
            f"relay round {round_ + 1}: deferred {RELAY_ROWS / deferred_seconds[-1]:,.0f} events/s, "
            f"ready rows {RELAY_ROWS / plain_seconds[-1]:,.0f} events/s"
        )
    return RELAY_ROWS / statistics.median(deferred_seconds), RELAY_ROWS / statistics.median(plain_seconds)


async def _drain(engine: Any, kafka: KafkaSettings) -> float:
    """Seconds a relay (the services' batch size) takes to publish everything pending."""
    relay = OutboxRelay(engine, kafka, service="bench", renderers=RENDERERS)
    try:
        started = time.perf_counter()
        while await relay.relay_once():
            pass
        return time.perf_counter() - started
    finally:
        await relay.stop()


async def _api_read(client: httpx.AsyncClient, headers: dict[str, str], id_number: str) -> None:
    response = await client.get(f"/v1/persons/{id_number}", headers=headers)
    assert response.status_code == 200


async def _sql_read(engine: Any, id_number: str) -> None:
    async with engine.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM person WHERE id_number = :id"), {"id": id_number})).one()
        assert row


async def _reads(read: Any, ids: list[str]) -> tuple[float, float, float]:
    latencies: list[float] = []
    queue = list(reversed(ids))

    async def worker() -> None:
        while queue:
            id_number = queue.pop()
            started = time.perf_counter()
            await read(id_number)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    return len(ids) / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99)
