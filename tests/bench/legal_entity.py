"""Legal-entity registry: bulk import against a raw bulk load, registration against the same SQL, read by key.

The registry checks every legal representative in population-db through the gateway; here that call is answered at
once by an in-process stand-in (an ``httpx.MockTransport`` answering "registered, alive"), so the numbers are the
registry's own cost (the gateway's read path has its own benchmark). Each registration also asks once; an import
asks once per representative (its demo rows share 50 of them).

- Import: ``IMPORT_ROWS`` synthetic entities as CSV streamed over HTTP (every row parsed, checked by the rules,
  registered through ``records.register`` with its version and ``entity.registered`` event, one transaction)
  against ``COPY`` of the same rows, already typed, into the same ``entity`` table with the same indexes;
  alternating rounds after emptying the tables and a checkpoint, medians.
- Registration: ``POST /v1/entities`` at concurrency ``CONCURRENCY`` against the statements it makes (the entity,
  its version, its outbox event) sent by the benchmark on pooled connections at the same concurrency.
- Read by key: ``GET /v1/entities/{uscc}`` against a ``SELECT`` by primary key on a pooled connection.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any

import httpx
from rich.console import Console
from sqlalchemy import text

import onesource.legal_entity
from onesource.kit.db import create_engine
from onesource.kit.migrations import service_migrations_dir
from onesource.kit.testing.plugin import Infrastructure, prepare_service_database, running_app
from onesource.kit.testing.tokens import TestTokens
from onesource.legal_entity.demo import EntityFactory, to_csv
from onesource.legal_entity.entities.rules import industry_section
from onesource.legal_entity.entities.schemas import RECORD_FIELDS
from onesource.legal_entity.main import create_app
from onesource.legal_entity.representatives import RepresentativeCheck
from onesource.legal_entity.settings import PERSONS_PATH, REPRESENTATIVE_CHECK_PURPOSE, Settings
from onesource.registry.platform import PlatformClient
from onesource.registry.settings import PlatformSettings
from onesource.standards.citizen_id import check_character
from tests.bench.harness import Row, Table, percentile

IMPORT_ROWS = 5_000
ROUNDS = 3
REGISTRATIONS = 1_000
READS = 3_000
CONCURRENCY = 8
REPRESENTATIVES = [f"11010519800101{index:03d}" for index in range(50)]
REPRESENTATIVES = [number + check_character(number) for number in REPRESENTATIVES]
_COLUMNS = tuple(name for name in RECORD_FIELDS)


def _population_answers(request: httpx.Request) -> httpx.Response:
    """The gateway and population-db, as the registry's client sees them: a token, and every person alive."""
    if request.url.path == "/oauth/token":
        return httpx.Response(200, json={"access_token": "bench", "expires_in": 3600})
    id_number = request.url.path.rsplit("/", 1)[-1]
    return httpx.Response(200, json={"id_number": id_number, "deceased": False})


def _typed(entity: dict[str, Any]) -> tuple[Any, ...]:
    capital = entity["registered_capital"]
    values = {
        **entity,
        "established_on": date.fromisoformat(entity["established_on"]),
        "operating_until": date.fromisoformat(entity["operating_until"]) if entity["operating_until"] else None,
        "registered_capital": json.dumps(capital) if capital is not None else None,
        "status": "active",
        "status_reason": None,
        "status_effective_on": None,
        "industry_section": industry_section(entity["industry_code"]),
    }
    return tuple(values[name] for name in _COLUMNS)


async def _empty(engine: Any) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("TRUNCATE entity, entity_version, entity_import, entity_import_error, outbox_event")
        )
    async with engine.connect() as connection:
        await connection.execute(text("CHECKPOINT"))


async def bench_legal_entity(servers: Infrastructure, console: Console) -> Table:
    dsn = await prepare_service_database(
        servers, "legal-entity-bench", service_migrations_dir(onesource.legal_entity.__file__)
    )
    tokens = TestTokens()
    platform = PlatformSettings(gateway_url="http://gateway", client_id="amr-legal-entity", client_secret="bench")
    settings = Settings(
        environment="test",
        database_url=dsn,
        kafka=servers.kafka,
        relay_enabled=False,
        findings_enabled=False,
        owner_department="amr",
        platform=platform,
    )
    registrar = tokens.headers("amr-registrar", "amr", ["registrar"])
    engine = create_engine(dsn, pool_size=CONCURRENCY)
    table = Table(
        "Legal-entity registry",
        f"Bulk import of {IMPORT_ROWS:,} synthetic entities as CSV streamed over HTTP (every row checked and "
        "registered through the registry core with its version and event) against `COPY` of the same rows, "
        f"already typed, into the same table; {ROUNDS} alternating rounds, medians. Registration: "
        f"{REGISTRATIONS:,} `POST /v1/entities` at concurrency {CONCURRENCY} against the same three INSERTs (entity, "
        f"version, outbox event) in one transaction each, at the same concurrency. Reads: {READS:,} "
        f"`GET /v1/entities/{{uscc}}` against a `SELECT` by primary key. The legal representative's check through "
        "the gateway is answered at once by an in-process stand-in (the registry's own cost is measured).",
    )
    async with running_app(create_app(settings), tokens) as app:
        network = httpx.AsyncClient(transport=httpx.MockTransport(_population_answers))
        app.state.representative_check = RepresentativeCheck(
            PlatformClient(platform, network), PERSONS_PATH, REPRESENTATIVE_CHECK_PURPOSE
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://legal-entity", timeout=600) as client:
            raw_seconds: list[float] = []
            import_seconds: list[float] = []
            for round_ in range(ROUNDS):
                entities = list(EntityFactory(round_, REPRESENTATIVES).entities(IMPORT_ROWS))
                body = b"".join(to_csv(entities))
                records = [_typed(entity) for entity in entities]
                for load in ("raw", "import") if round_ % 2 == 0 else ("import", "raw"):
                    await _empty(engine)
                    if load == "raw":
                        raw_seconds.append(await _raw(engine, records))
                    else:
                        import_seconds.append(await _import(client, registrar, body))
                console.print(
                    f"round {round_ + 1}: raw COPY {IMPORT_ROWS / raw_seconds[-1]:,.0f} rows/s, "
                    f"import {IMPORT_ROWS / import_seconds[-1]:,.0f} rows/s"
                )
            raw_rate = IMPORT_ROWS / statistics.median(raw_seconds)
            import_rate = IMPORT_ROWS / statistics.median(import_seconds)
            table.rows.append(
                Row(
                    "bulk import",
                    f"{import_rate:,.0f} rows/s",
                    f"{raw_rate:,.0f} rows/s raw COPY",
                    f"{import_rate / raw_rate:.0%}",
                    "≥ 50%",
                    import_rate / raw_rate >= 0.5,
                )
            )

            await _empty(engine)
            fresh = list(EntityFactory(99, REPRESENTATIVES).entities(2 * REGISTRATIONS))
            api = await _concurrently(lambda entity: _register(client, registrar, entity), fresh[:REGISTRATIONS])
            direct = await _concurrently(lambda entity: _insert(engine, entity), fresh[REGISTRATIONS:])
            table.rows.append(
                Row(
                    "registration, throughput",
                    f"{api[0]:,.0f} /s",
                    f"{direct[0]:,.0f} /s same SQL",
                    f"{api[0] / direct[0]:.0%}",
                    "≥ 50%",
                    api[0] / direct[0] >= 0.5,
                )
            )
            table.rows.append(
                Row("registration, p99", f"{api[2] * 1000:.2f} ms", f"{direct[2] * 1000:.2f} ms", "—", "—", None)
            )
            keys = [entity["uscc"] for entity in fresh[:REGISTRATIONS]] * (READS // REGISTRATIONS)
            reads = await _concurrently(lambda uscc: _api_read(client, registrar, uscc), keys)
            selects = await _concurrently(lambda uscc: _sql_read(engine, uscc), keys)
            table.rows.append(
                Row(
                    "read by key, throughput",
                    f"{reads[0]:,.0f} reads/s",
                    f"{selects[0]:,.0f} reads/s SQL",
                    f"{reads[0] / selects[0]:.0%}",
                    "—",
                    None,
                )
            )
            table.rows.append(
                Row("read by key, p99", f"{reads[2] * 1000:.2f} ms", f"{selects[2] * 1000:.2f} ms", "—", "—", None)
            )
        await network.aclose()
    await engine.dispose()
    return table


async def _raw(engine: Any, records: list[tuple[Any, ...]]) -> float:
    started = time.perf_counter()
    async with engine.begin() as loading:
        driver = (await loading.get_raw_connection()).driver_connection
        await driver.copy_records_to_table("entity", records=records, columns=_COLUMNS)
    return time.perf_counter() - started


async def _import(client: httpx.AsyncClient, registrar: dict[str, str], body: bytes) -> float:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    started = time.perf_counter()
    response = await client.post("/v1/imports", content=chunks(), headers={**registrar, "Content-Type": "text/csv"})
    seconds = time.perf_counter() - started
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == IMPORT_ROWS, response.json()
    return seconds


async def _register(client: httpx.AsyncClient, registrar: dict[str, str], entity: dict[str, Any]) -> None:
    response = await client.post("/v1/entities", json=entity, headers=registrar)
    assert response.status_code == 201, response.text


async def _insert(engine: Any, entity: dict[str, Any]) -> None:
    """The registration's statements: the entity, its first version, its event in the outbox."""
    record = dict(zip(_COLUMNS, _typed(entity), strict=True))
    payload = json.dumps({"record": entity}, ensure_ascii=False)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                f"INSERT INTO entity ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + name for name in _COLUMNS)}) "
                "ON CONFLICT DO NOTHING RETURNING *"
            ),
            record,
        )
        await connection.execute(
            text(
                "INSERT INTO entity_version (uscc, version, change, changes, recorded_by, department) "
                "VALUES (:uscc, 1, 'registered', CAST(:changes AS jsonb), 'bench', 'amr')"
            ),
            {"uscc": entity["uscc"], "changes": json.dumps(entity, ensure_ascii=False)},
        )
        await connection.execute(
            text(
                "INSERT INTO outbox_event (event_id, topic, key, shard, payload) "
                "VALUES (:id, 'onesource.legal-entity.entity.v1', :key, 0, CAST(:payload AS json))"
            ),
            {"id": str(uuid.uuid4()), "key": entity["uscc"], "payload": payload},
        )


async def _api_read(client: httpx.AsyncClient, headers: dict[str, str], uscc: str) -> None:
    response = await client.get(f"/v1/entities/{uscc}", headers=headers)
    assert response.status_code == 200


async def _sql_read(engine: Any, uscc: str) -> None:
    async with engine.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM entity WHERE uscc = :uscc"), {"uscc": uscc})).one()
        assert row


async def _concurrently(call: Callable[[Any], Awaitable[None]], items: list[Any]) -> tuple[float, float, float]:
    """Throughput, p50 and p99 of ``call`` over ``items`` at ``CONCURRENCY``."""
    latencies: list[float] = []
    queue = list(reversed(items))

    async def worker() -> None:
        while queue:
            item = queue.pop()
            started = time.perf_counter()
            await call(item)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    return len(items) / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99)
