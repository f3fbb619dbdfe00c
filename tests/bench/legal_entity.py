"""Legal-entity registry: bulk import against a raw bulk load; registration and read by key against the frame.

The registry checks every legal representative in population-db through the gateway. Here a stand-in answers that
call at once ("registered, alive"), so the numbers are the registry's own cost (the gateway's read path has its own
benchmark): in-process for the import (an ``httpx.MockTransport``), as an HTTP server of its own for registration.
An import asks once per representative (its demo rows share 50 of them); each registration asks once.

- Import: ``IMPORT_ROWS`` synthetic entities as CSV streamed over HTTP (every row parsed and checked by the rules,
  registered with its first version — the entity row itself until it changes — and its ``entity.registered`` event
  deferred to the relay, one transaction) against ``COPY`` of the same rows, already typed, into the same ``entity``
  table with the same indexes; alternating rounds after emptying the tables and a checkpoint, medians.
- Registration and read by key, against the physical frame (as ``frame.py`` does for population): the registry and
  :func:`frame_app` (FastAPI + asyncpg, no auth, no ORM, no middleware) as uvicorn servers, one process each, driven
  by ``loadgen`` at concurrency ``CONCURRENCY``, alternating rounds, medians. A registration is ``POST
  /v1/entities``: the registry's token check, rules, representative check, entity, version and outbox rows; the
  frame asks the stand-in about the representative too (over HTTP, with the same client library) and runs the same
  three INSERTs in one transaction. The frame's registration without the representative check is reported beside,
  so that the check's share of the time shows. Read: ``GET /v1/entities/{uscc}`` against the frame's ``SELECT`` by
  primary key answered as JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from rich.console import Console
from sqlalchemy import text

import onesource.legal_entity
from onesource.kit.db import create_engine
from onesource.kit.events import new_event_id
from onesource.kit.migrations import service_migrations_dir
from onesource.kit.outbox import shard_of
from onesource.kit.testing.plugin import Infrastructure, prepare_service_database, running_app
from onesource.kit.testing.tokens import TestTokens
from onesource.legal_entity.demo import EntityFactory, to_csv
from onesource.legal_entity.entities.events import ENTITY_TOPIC
from onesource.legal_entity.entities.rules import industry_section
from onesource.legal_entity.entities.schemas import RECORD_FIELDS
from onesource.legal_entity.main import create_app
from onesource.legal_entity.representatives import RepresentativeCheck
from onesource.legal_entity.settings import PERSONS_PATH, REPRESENTATIVE_CHECK_PURPOSE, Settings
from onesource.registry.platform import PlatformClient
from onesource.registry.settings import PlatformSettings
from onesource.standards.citizen_id import check_character
from tests.bench.harness import Row, Table, percentile
from tests.bench.loadgen import Connection, Run, Work, closed_loop
from tests.bench.serving import jwks_server, served

IMPORT_ROWS = 5_000
ROUNDS = 3
CONCURRENCY = 16
SECONDS = 5.0
WARM_UP_SECONDS = 1.5
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
    platform = PlatformSettings(
        gateway_url="http://gateway", client_id="amr-legal-entity", client_secret=SecretStr("bench")
    )
    settings = Settings(
        environment="test",
        database_url=SecretStr(dsn),
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
        "registered with its first version, kept in the entity row until it changes, and its event) against `COPY` "
        "of the same rows, already typed, into the "
        f"same table; {ROUNDS} alternating rounds, medians. Registration (`POST /v1/entities`) and read by key "
        "(`GET /v1/entities/{uscc}`): the registry and the frame (FastAPI + asyncpg, no auth, no ORM, no middleware, "
        "the same SQL in one transaction, and the same representative check over HTTP) as uvicorn servers, one "
        f"process each, driven by `tests/bench/loadgen.py` at concurrency {CONCURRENCY}; {ROUNDS} alternating rounds "
        f"of {SECONDS:.0f} s, medians. The legal representative's check through the gateway is answered at once by a "
        "stand-in (the registry's own cost is measured).",
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

        await network.aclose()
    await engine.dispose()
    await _against_the_frame(servers, dsn, tokens, table, console)
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


#: The stand-in keeps idle connections open across rounds: uvicorn's 5 s default closes them between rounds, and a
#: client that reuses one just then gets no answer (the registry rightly answers 503 to that).
STAND_IN_ENV = {"UVICORN_TIMEOUT_KEEP_ALIVE": "600"}
FRAME_DSN_ENV = "FRAME_DSN"
FRAME_GATEWAY_ENV = "FRAME_GATEWAY"


def stand_in_gateway() -> FastAPI:
    """The gateway and population-db as the registry's client sees them: a token, and every person alive."""
    app = FastAPI()

    @app.post("/oauth/token")
    async def token() -> dict[str, Any]:
        return {"access_token": "bench", "token_type": "Bearer", "expires_in": 3600}

    @app.get("/api/population/v1/persons/{id_number}")
    async def person(id_number: str) -> dict[str, Any]:
        return {"id_number": id_number, "deceased": False}

    return app


def frame_app() -> FastAPI:
    """The physical frame of a registration and a read by key: FastAPI + asyncpg, no auth, no ORM, no middleware.

    ``POST /v1/entities`` asks the stand-in gateway about the legal representative (``httpx``, as the registry
    does), then inserts the entity, its first version and its outbox event in one transaction and answers the row;
    ``POST /v1/unchecked-entities`` does the same without asking. ``GET /v1/entities/{uscc}`` answers the row.
    """
    dsn = os.environ[FRAME_DSN_ENV]
    gateway = os.environ[FRAME_GATEWAY_ENV]
    pool: asyncpg.Pool | None = None
    http: httpx.AsyncClient | None = None
    insert = (
        f"INSERT INTO entity ({', '.join(_COLUMNS)}) VALUES ({', '.join(f'${n + 1}' for n in range(len(_COLUMNS)))}) "
        "ON CONFLICT DO NOTHING RETURNING *"
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal pool, http
        pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
        http = httpx.AsyncClient()
        yield
        await http.aclose()
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    async def register(entity: dict[str, Any], check: bool) -> Response:
        assert pool is not None
        assert http is not None
        if check:
            answer = await http.get(
                f"{gateway}{PERSONS_PATH}/{entity['legal_representative_id']}",
                headers={"Authorization": "Bearer bench", "X-OneSource-Purpose": "bench"},
            )
            if answer.status_code != 200 or answer.json().get("deceased") is not False:
                raise HTTPException(422)
        async with pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(insert, *_typed(entity))
            if row is None:
                raise HTTPException(409)
            await connection.execute(
                "INSERT INTO entity_version (uscc, version, change, changes, recorded_by, department) "
                "VALUES ($1, 1, 'registered', $2::jsonb, 'frame', 'amr')",
                entity["uscc"],
                json.dumps(entity, ensure_ascii=False),
            )
            await connection.execute(
                "INSERT INTO outbox_event (event_id, topic, key, shard, payload) VALUES ($1, $2, $3, $4, $5::json)",
                new_event_id(),
                ENTITY_TOPIC,
                entity["uscc"],
                shard_of(entity["uscc"]),
                json.dumps({"record": entity}, ensure_ascii=False),
            )
        return JSONResponse(json.loads(json.dumps(dict(row), default=str)), status_code=201)

    @app.post("/v1/entities")
    async def checked(request: Request) -> Response:
        return await register(await request.json(), True)

    @app.post("/v1/unchecked-entities")
    async def unchecked(request: Request) -> Response:
        return await register(await request.json(), False)

    @app.get("/v1/entities/{uscc}")
    async def read(uscc: str) -> Any:
        assert pool is not None
        row = await pool.fetchrow("SELECT * FROM entity WHERE uscc = $1", uscc)
        if row is None:
            raise HTTPException(404)
        return JSONResponse(json.loads(json.dumps(dict(row), default=str)))

    return app


def _registrations(entities: Iterator[dict[str, Any]], headers: dict[str, str], path: str) -> Work:
    """Each unit registers the next new entity."""
    headers = {**headers, "Content-Type": "application/json"}

    async def work(connection: Connection, number: int) -> bool:
        body = json.dumps(next(entities), ensure_ascii=False).encode()
        answer = await connection.request("POST", path, headers, body)
        return answer.status == 201

    return work


def _reads(usccs: list[str], headers: dict[str, str]) -> Work:
    async def work(connection: Connection, number: int) -> bool:
        answer = await connection.request("GET", f"/v1/entities/{usccs[number % len(usccs)]}", headers)
        return answer.status == 200

    return work


async def _alternate(console: Console, label: str, sides: dict[str, tuple[int, Work]]) -> dict[str, list[Run]]:
    """``ROUNDS`` rounds of every side, the order turning round by round; each side warmed up first."""
    runs: dict[str, list[Run]] = {name: [] for name in sides}
    for port, work in sides.values():
        await closed_loop("127.0.0.1", port, work, concurrency=CONCURRENCY, seconds=WARM_UP_SECONDS)
    names = list(sides)
    for round_ in range(ROUNDS):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            port, work = sides[name]
            run = await closed_loop("127.0.0.1", port, work, concurrency=CONCURRENCY, seconds=SECONDS)
            assert run.failures == 0, f"{label} {name}: {run.failures} failed"
            runs[name].append(run)
        console.print(f"{label} round {round_ + 1}: " + ", ".join(f"{n} {runs[n][-1].rate:,.0f}/s" for n in names))
    return runs


def _rate(runs: list[Run]) -> float:
    return statistics.median(run.rate for run in runs)


def _p50(runs: list[Run]) -> float:
    return statistics.median(percentile(run.latencies, 0.5) for run in runs)


async def _against_the_frame(
    servers: Infrastructure, dsn: str, tokens: TestTokens, table: Table, console: Console
) -> None:
    """Registration and read by key through the registry and through the frame, as HTTP servers under load."""
    engine = create_engine(dsn)
    await _empty(engine)
    await engine.dispose()
    registrar = {"Authorization": "Bearer " + tokens.issue("amr-registrar", "amr", ["registrar"], lifetime=3600)}
    entities = EntityFactory(99, REPRESENTATIVES).entities(10**9)
    logs = Path("/tmp") / f"onesource-bench-{dsn.rsplit('/', 1)[-1]}"
    logs.mkdir(exist_ok=True)
    stand_in = "tests.bench.legal_entity:stand_in_gateway"
    with jwks_server(tokens) as auth, served(stand_in, STAND_IN_ENV, logs / "gw.log") as gw:
        gateway = f"http://127.0.0.1:{gw}"
        env = {
            **auth,
            "ONESOURCE_ENVIRONMENT": "test",
            "ONESOURCE_LEGAL_ENTITY_DATABASE_URL": dsn,
            "ONESOURCE_LEGAL_ENTITY_RELAY_ENABLED": "false",
            "ONESOURCE_LEGAL_ENTITY_FINDINGS_ENABLED": "false",
            "ONESOURCE_LEGAL_ENTITY_PLATFORM__GATEWAY_URL": gateway,
            "ONESOURCE_LEGAL_ENTITY_PLATFORM__CLIENT_ID": "amr-legal-entity",
            "ONESOURCE_LEGAL_ENTITY_PLATFORM__CLIENT_SECRET": "bench",
            "ONESOURCE_KAFKA_BOOTSTRAP": servers.kafka.bootstrap,
            "ONESOURCE_KAFKA_IDEMPOTENCE": str(servers.kafka.idempotence).lower(),
        }
        frame_env = {
            FRAME_DSN_ENV: dsn.replace("postgresql+asyncpg://", "postgresql://", 1),
            FRAME_GATEWAY_ENV: gateway,
        }
        with (
            served("onesource.legal_entity.main:create_app", env, logs / "legal-entity.log") as registry,
            served("tests.bench.legal_entity:frame_app", frame_env, logs / "frame.log") as frame,
        ):
            registrations = await _alternate(
                console,
                "registration",
                {
                    "registry": (registry, _registrations(entities, registrar, "/v1/entities")),
                    "frame": (frame, _registrations(entities, {}, "/v1/entities")),
                    "frame without the check": (frame, _registrations(entities, {}, "/v1/unchecked-entities")),
                },
            )
            engine = create_engine(dsn)
            async with engine.connect() as connection:
                usccs = list((await connection.execute(text("SELECT uscc FROM entity LIMIT 20000"))).scalars())
            await engine.dispose()
            reads = await _alternate(
                console,
                "read by key",
                {"registry": (registry, _reads(usccs, registrar)), "frame": (frame, _reads(usccs, {}))},
            )
    registry_rate, frame_rate = _rate(registrations["registry"]), _rate(registrations["frame"])
    unchecked = _rate(registrations["frame without the check"])
    table.rows.append(
        Row(
            "registration, throughput",
            f"{registry_rate:,.0f} /s",
            f"{frame_rate:,.0f} /s frame",
            f"{registry_rate / frame_rate:.0%}",
            "≥ 50%",
            registry_rate / frame_rate >= 0.5,
        )
    )
    table.rows.append(
        Row(
            "registration, p50",
            f"{_p50(registrations['registry']) * 1000:.2f} ms",
            f"{_p50(registrations['frame']) * 1000:.2f} ms frame",
            "—",
            "—",
            None,
        )
    )
    table.rows.append(
        Row(
            "frame registration without the representative check",
            f"{unchecked:,.0f} /s",
            f"{frame_rate:,.0f} /s with it",
            f"{registry_rate / unchecked:.0%} registry/this",
            "—",
            None,
        )
    )
    registry_rate, frame_rate = _rate(reads["registry"]), _rate(reads["frame"])
    table.rows.append(
        Row(
            "read by key, throughput",
            f"{registry_rate:,.0f} reads/s",
            f"{frame_rate:,.0f} reads/s frame",
            f"{registry_rate / frame_rate:.0%}",
            "≥ 50%",
            registry_rate / frame_rate >= 0.5,
        )
    )
    table.rows.append(
        Row(
            "read by key, p50",
            f"{_p50(reads['registry']) * 1000:.2f} ms",
            f"{_p50(reads['frame']) * 1000:.2f} ms frame",
            "—",
            "—",
            None,
        )
    )
