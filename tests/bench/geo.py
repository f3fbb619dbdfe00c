"""Geospatial registry: point in parcel and nearby addresses over 1,000,000 parcels and addresses, through its API.

Target (DESIGN.md): point-in-parcel and nearby p95 ≤ 20 ms over 1,000,000 parcels / addresses. The parcels are a
1000 × 1000 grid of 80 m squares (110 m apart) around Beijing, each with an address point inside, loaded in SQL
(``generate_series``, not through the API) before the GiST indexes are built, as a bulk load would. Every request
goes through the geo app in-process (routing, token check, SQL on PostGIS, GeoJSON): ``GET /v1/parcels?contains=``
at a random point (inside a parcel or in the gap between), ``GET /v1/addresses?near=&radius=300`` (about 25
addresses, nearest first, with their distances). Baseline: a primary-key read of one parcel
(``GET /v1/parcels/{code}``) through the same app in the same run. Kinds alternate round by round.

PostGIS: the server ``ONESOURCE_TEST_POSTGIS_DATABASE_URL`` names, else an embedded one run from the machine's
PostgreSQL with PostGIS (``kit.embedded.postgis``, installed from the distribution when missing and root).
``ONESOURCE_BENCH_GEO_ROWS`` scales the grid down for a quick try (the default is the target's million).
"""

from __future__ import annotations

import logging
import math
import os
import random
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
from pydantic import SecretStr
from rich.console import Console

from onesource.geo.main import create_app
from onesource.geo.settings import Settings
from onesource.kit.embedded import EmbeddedPostgres, find_free_port, postgis
from onesource.kit.testing.plugin import (
    POSTGIS_DATABASE_ENV,
    Infrastructure,
    api_client,
    prepare_service_database,
    running_app,
)
from onesource.kit.testing.tokens import TestTokens
from tests.bench.harness import Row, Table, percentile

ROWS = int(os.environ.get("ONESOURCE_BENCH_GEO_ROWS", "1000000"))
SIDE = math.isqrt(ROWS)
WEST, SOUTH = 116.0, 39.5
STEP, SQUARE = 0.001, 0.0008
WARMUP = 100
ROUNDS = 3
PER_ROUND = 300
RADIUS_M = 300
SEED = 20_261_204
MIGRATIONS = Path(__file__).resolve().parents[2] / "geo-db" / "migrations"

#: Dropped before the load and built after it (a bulk load's order); their definitions are the migration's.
INDEXES = ("ix_parcel_geometry", "ix_address_geometry", "ix_address_geography", "ix_parcel_division_code",
           "ix_address_division_code")  # fmt: skip


@asynccontextmanager
async def postgis_server(servers: Infrastructure, console: Console) -> AsyncIterator[Infrastructure]:
    """A PostgreSQL with PostGIS beside the benchmark's broker: the one named by the environment, or embedded."""
    named = os.environ.get(POSTGIS_DATABASE_ENV)
    if named:
        yield Infrastructure(admin_dsn=named, kafka=servers.kafka, postgres=None, broker=None)
        return
    binaries, done = postgis()
    for step in done:
        console.print(step)
    with tempfile.TemporaryDirectory(prefix="onesource-bench-postgis-") as scratch:
        server = EmbeddedPostgres(Path(scratch) / "postgres", port=find_free_port(), binaries=binaries)
        server.start()
        try:
            yield Infrastructure(admin_dsn=server.admin_dsn(), kafka=servers.kafka, postgres=server, broker=None)
        finally:
            server.discard()


async def _load(dsn: str) -> float:
    """The grid of parcels and their addresses, then the indexes and statistics; seconds taken."""
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        definitions = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY($1::text[])", list(INDEXES)
        )
        for row in definitions:
            await connection.execute(f'DROP INDEX "{row["indexname"]}"')
        cell = f"(n % {SIDE}) * {STEP} + {WEST}", f"(n / {SIDE}) * {STEP} + {SOUTH}"
        await connection.execute(
            f"""
            INSERT INTO parcel (parcel_code, division_code, land_use, geometry, area_m2)
            SELECT '110105' || lpad((n / 100000)::text, 3, '0') || '001GB' || lpad((n % 100000)::text, 5, '0'),
                   '110105', '0701',
                   ST_MakeEnvelope({cell[0]}, {cell[1]}, {cell[0]} + {SQUARE}, {cell[1]} + {SQUARE}, 4490), 6000
            FROM generate_series(0, {SIDE * SIDE - 1}) AS n
            """
        )
        await connection.execute(
            f"""
            INSERT INTO address (address_code, division_code, town, road, door_number, full_address, geometry)
            SELECT '110105' || lpad((n / 100000)::text, 3, '0') || '001' || lpad((n % 100000)::text, 6, '0'),
                   '110105', '朝阳门外街道', '朝阳路', (n % 400 + 1) || '号', '北京市朝阳区朝阳路',
                   ST_SetSRID(ST_MakePoint({cell[0]} + {SQUARE / 2}, {cell[1]} + {SQUARE / 2}), 4490)
            FROM generate_series(0, {SIDE * SIDE - 1}) AS n
            """
        )
        for row in definitions:
            await connection.execute(row["indexdef"])
        await connection.execute("VACUUM ANALYZE parcel")
        await connection.execute("VACUUM ANALYZE address")
    finally:
        await connection.close()
    return time.perf_counter() - started


async def _timed(
    http: httpx.AsyncClient, path: str, params: dict[str, str], headers: dict[str, str]
) -> tuple[float, int]:
    started = time.perf_counter()
    response = await http.get(path, params=params, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{path} {params}: {response.status_code} {response.text[:300]}")
    body = response.json()
    return elapsed, len(body["features"]) if "features" in body else 1


async def bench_geo(servers: Infrastructure, console: Console) -> Table:
    async with postgis_server(servers, console) as spatial:
        dsn = await prepare_service_database(spatial, "geo_bench", MIGRATIONS)
        with console.status(f"loading {SIDE * SIDE:,} parcels and as many addresses, then their GiST indexes"):
            load_seconds = await _load(dsn)
        console.print(f"loaded {SIDE * SIDE:,} parcels and addresses with their indexes in {load_seconds:.1f} s")
        settings = Settings(database_url=SecretStr(dsn), relay_enabled=False, kafka=spatial.kafka)
        tokens = TestTokens()
        reader = tokens.headers("bench-nrb", "nrb", ["registrar"])
        rng = random.Random(SEED)
        extent = SIDE * STEP

        def point() -> str:
            return f"{WEST + rng.random() * extent:.7f},{SOUTH + rng.random() * extent:.7f}"

        def code() -> str:
            n = rng.randrange(SIDE * SIDE)
            return f"110105{n // 100000:03d}001GB{n % 100000:05d}"

        requests: dict[str, list[tuple[str, dict[str, str]]]] = {
            "point in parcel": [("/v1/parcels", {"contains": point()}) for _ in range(ROUNDS * PER_ROUND)],
            "nearby": [
                ("/v1/addresses", {"near": point(), "radius": str(RADIUS_M)}) for _ in range(ROUNDS * PER_ROUND)
            ],
            "primary-key read": [(f"/v1/parcels/{code()}", {}) for _ in range(ROUNDS * PER_ROUND)],
        }
        latencies: dict[str, list[float]] = {kind: [] for kind in requests}
        found: dict[str, list[int]] = {kind: [] for kind in requests}
        async with running_app(create_app(settings), tokens) as app, api_client(app) as http:
            logging.getLogger("httpx").setLevel(logging.WARNING)
            for kind in requests:
                for path, params in requests[kind][:WARMUP]:
                    await _timed(http, path, params, reader)
            with console.status("measuring"):
                for round_number in range(ROUNDS):
                    window = slice(round_number * PER_ROUND, (round_number + 1) * PER_ROUND)
                    for kind, calls in requests.items():
                        for path, params in calls[window]:
                            elapsed, count = await _timed(http, path, params, reader)
                            latencies[kind].append(elapsed)
                            found[kind].append(count)

    def ms(kind: str, fraction: float) -> float:
        return percentile(latencies[kind], fraction) * 1000

    base50, base95 = ms("primary-key read", 0.5), ms("primary-key read", 0.95)
    rows = []
    for kind in ("point in parcel", "nearby"):
        p50, p95 = ms(kind, 0.5), ms(kind, 0.95)
        rows.append(Row(f"{kind} p50", f"{p50:.1f} ms", f"{base50:.1f} ms key read", f"{p50 / base50:.1f}×", "—", None))
        rows.append(
            Row(
                f"{kind} p95",
                f"{p95:.1f} ms",
                f"{base95:.1f} ms key read",
                f"{p95 / base95:.1f}×",
                "≤ 20 ms",
                p95 <= 20,
            )
        )
    hits = sum(1 for count in found["point in parcel"] if count) / len(found["point in parcel"])
    nearby = sorted(found["nearby"])[len(found["nearby"]) // 2]
    return Table(
        title="Geospatial registry: point in parcel and nearby",
        description=(
            f"{SIDE * SIDE:,} parcels (80 m squares on a 110 m grid around Beijing) and as many address points, "
            f"loaded in SQL and indexed in {load_seconds:.1f} s (GiST on the geometries and on the addresses' "
            f"geography). {ROUNDS} alternating rounds of {PER_ROUND} requests per kind, one at a time, through the "
            "geo app in-process (token check, PostGIS, GeoJSON): `contains=` at random points "
            f"({hits:.0%} fall inside a parcel, the rest between), `near=` with radius {RADIUS_M} m (median "
            f"{nearby} addresses, nearest first). Baseline: a primary-key read of one parcel through the same app."
        ),
        rows=rows,
    )
