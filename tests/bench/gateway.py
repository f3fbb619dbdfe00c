"""Gateway read path: one person through the gateway against the same read straight from the registry.

Target (DESIGN.md): through the gateway (token, grant, purpose, masking, audit) ≥ 50% of the direct throughput at
the same concurrency, in the same run, and at a fixed offered load of half the direct maximum adding ≤ 3 ms at p50
and ≤ 10 ms at p99.

Both sides run against one local mesh (`onesource up`, every service its own process, embedded PostgreSQL and
broker). Direct: the owner's registrar reads `GET /v1/persons/{id}` from the registry, which verifies the token and
reads the row. Through the gateway: a consumer department with a grant on `population.person` reads
`GET /api/population/v1/persons/{id}` with its purpose; the gateway verifies the token, finds the covering
resources and the grants, forwards with its own token, masks the answer, commits the audit entry, answers.
Throughput is measured with 16 concurrent readers (closed loop); added latency at a fixed offered load of half the
direct maximum (open loop: each latency from the request's scheduled time, so a stall of the gateway is counted for
every call it holds up). A third side is the gateway's physical frame (``gateway_frame_app``): the smallest FastAPI
app doing the same hop — a known token, the forward over a kept connection, the mask, one audit row — which shows
what any Python gateway adds on this machine at that load. Rounds rotate which side goes first, so that the
machine's noise hits every side; medians are reported. The load generator (``loadgen``, raw HTTP/1.1) runs on the
same machine and takes CPU from every side alike.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from rich.console import Console

from onesource.kit.embedded import find_free_port
from onesource.kit.testing.plugin import Infrastructure
from onesource.standards.uscc import check_character, organisation_code_check_character
from tests.bench.harness import Row, Table, percentile
from tests.bench.loadgen import Connection, Work, closed_loop, open_loop
from tests.bench.serving import served
from tests.mesh_process import start_mesh, stop_mesh

ROUNDS = 3
#: Throughput: both sides at the same concurrency, long enough to average over the machine's noise.
THROUGHPUT_SECONDS = 6.0
CONCURRENCY = 16
#: Added latency: an open loop at half the direct maximum, so a stall shows as the calls it delays.
OPEN_LOOP_SECONDS = 10.0
PURPOSE = quote("最低生活保障资格审核", safe="")


def _token(gateway: str, client_id: str, secret: str) -> str:
    response = httpx.post(
        f"{gateway}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _consumer_with_grant(mesh: dict[str, Any]) -> str:
    """A new department whose consumer holds a grant on population.person; returns the consumer's token."""
    gateway = mesh["gateway"]
    admin = {"Authorization": f"Bearer {_token(gateway, 'admin', mesh['admin']['client_secret'])}"}
    code = "bench" + secrets.token_hex(3)
    body8 = "".join(secrets.choice("0123456789") for _ in range(8))
    body17 = "11110000" + body8 + organisation_code_check_character(body8)  # GB 32100 with GB 11714
    httpx.post(
        f"{gateway}/api/identity/v1/departments",
        headers=admin,
        json={"code": code, "name": "基准测试局", "uscc": body17 + check_character(body17)},
    ).raise_for_status()
    client = httpx.post(
        f"{gateway}/api/identity/v1/clients",
        headers=admin,
        json={"department": code, "name": "benchmark", "roles": ["consumer"]},
    )
    client.raise_for_status()
    token = _token(gateway, client.json()["client_id"], client.json()["client_secret"])
    asked = httpx.post(
        f"{gateway}/api/exchange/v1/share-requests",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "resource": "population.person",
            "fields": ["id_number", "name", "sex", "birth_date"],
            "purpose": "最低生活保障资格审核",
        },
    )
    asked.raise_for_status()
    if asked.json()["status"] != "granted":
        raise RuntimeError(f"share request not granted: {asked.text}")
    return token


def _reader(paths: list[str], headers: dict[str, str]) -> Work:
    async def work(connection: Connection, number: int) -> bool:
        answer = await connection.request("GET", paths[number % len(paths)], headers)
        if answer.status != 200:
            raise RuntimeError(f"read failed: {answer.status} {answer.body[:200]!r}")
        return True

    return work


async def bench_gateway(servers: Infrastructure, console: Console) -> Table:
    """Direct registry reads, reads through the gateway and through its frame, alternating rounds."""
    # The mesh starts its own embedded PostgreSQL and broker, as `make run` does; the frame's audit table is on the
    # benchmark's own PostgreSQL.
    frame_dsn = (await servers.recreate_database("gateway_frame")).replace("postgresql+asyncpg://", "postgresql://", 1)
    with tempfile.TemporaryDirectory(prefix="onesource-bench-mesh-") as scratch:
        # Its own embedded servers: nothing of the caller's environment may point it elsewhere.
        env = {key: value for key, value in os.environ.items() if not key.startswith("ONESOURCE_")}
        # The per-client rate limit (1,000 calls/s by default) above what one benchmark client asks: the bucket is
        # still consulted on every call, but the benchmark measures reads, not refusals.
        env |= {"ONESOURCE_GATEWAY_RATE_LIMIT_PER_SECOND": "100000", "ONESOURCE_GATEWAY_RATE_LIMIT_BURST": "200000"}
        process, mesh = await asyncio.to_thread(start_mesh, Path(scratch) / "var", env, pg_port=find_free_port())
        console.print(f"mesh up: gateway {mesh['gateway']}")
        try:
            return await _measure(mesh, frame_dsn, Path(scratch), console)
        finally:
            await asyncio.to_thread(stop_mesh, process)


async def _measure(mesh: dict[str, Any], frame_dsn: str, scratch: Path, console: Console) -> Table:
    gateway, registry = mesh["gateway"], mesh["services"]["population"]
    clients = {client["client_id"]: client for client in mesh["demo_clients"]}
    registrar = clients["psb-registrar"]
    owner_token = _token(gateway, registrar["client_id"], registrar["client_secret"])
    owner = {"Authorization": f"Bearer {owner_token}", "X-OneSource-Purpose": "benchmark"}
    listed = httpx.get(f"{gateway}/api/population/v1/persons", params={"limit": 200}, headers=owner)
    listed.raise_for_status()
    ids = [item["id_number"] for item in listed.json()["items"]]
    consumer_token = _consumer_with_grant(mesh)
    consumer = {"Authorization": f"Bearer {consumer_token}", "X-OneSource-Purpose": PURPOSE}
    deadline = time.monotonic() + 60
    while httpx.get(f"{gateway}/api/population/v1/persons/{ids[0]}", headers=consumer).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("the gateway never saw the benchmark's grant")
        await asyncio.sleep(0.2)

    frame_env = {
        "FRAME_DSN": frame_dsn,
        "FRAME_REGISTRY": registry,
        "FRAME_CALLER_TOKEN": consumer_token,
        "FRAME_REGISTRY_TOKEN": owner_token,
    }
    with served("tests.bench.gateway_frame_app:create_app", frame_env, scratch / "gateway-frame.log") as frame_port:
        direct_paths = [f"/v1/persons/{id_number}" for id_number in ids]
        gateway_paths = [f"/api/population/v1/persons/{id_number}" for id_number in ids]
        sides = {
            "direct": (_port(registry), _reader(direct_paths, {"Authorization": f"Bearer {owner_token}"})),
            "gateway": (_port(gateway), _reader(gateway_paths, consumer)),
            "frame": (frame_port, _reader(gateway_paths, consumer)),
        }
        return await _rounds(sides, console)


async def _rounds(sides: dict[str, tuple[int, Work]], console: Console) -> Table:
    rates: dict[str, list[float]] = {side: [] for side in sides}
    for port, work in sides.values():  # warm every path: connections, caches, the gateway's token for the department
        await closed_loop("127.0.0.1", port, work, concurrency=CONCURRENCY, seconds=1.0)
    for round_number in range(ROUNDS):
        for side, (port, work) in _rotated(sides, round_number):
            run = await closed_loop("127.0.0.1", port, work, concurrency=CONCURRENCY, seconds=THROUGHPUT_SECONDS)
            rates[side].append(run.rate)
            console.print(f"round {round_number + 1} {side}: {run.rate:,.0f} reads/s at {CONCURRENCY} concurrent")
    rate = {side: statistics.median(values) for side, values in rates.items()}
    offered = rate["direct"] / 2
    latencies: dict[str, list[float]] = {side: [] for side in sides}
    for round_number in range(ROUNDS):
        for side, (port, work) in _rotated(sides, round_number):
            run = await open_loop("127.0.0.1", port, work, rate=offered, seconds=OPEN_LOOP_SECONDS)
            latencies[side].extend(latency * 1000 for latency in run.latencies)
            p50_ms, p99_ms = percentile(run.latencies, 0.5) * 1000, percentile(run.latencies, 0.99) * 1000
            console.print(
                f"round {round_number + 1} {side} at {offered:,.0f} reads/s offered: "
                f"p50 {p50_ms:.2f} ms, p99 {p99_ms:.2f} ms"
            )
    p50 = {side: percentile(values, 0.5) for side, values in latencies.items()}
    p99 = {side: percentile(values, 0.99) for side, values in latencies.items()}
    table = Table(
        "Gateway read path",
        f"One person by id. Throughput: {ROUNDS} rotating rounds per side of {THROUGHPUT_SECONDS:.0f} s at "
        f"concurrency {CONCURRENCY} (closed loop, `tests/bench/loadgen.py`), medians. Latency: open loop at half "
        f"the direct maximum ({offered:,.0f} reads/s offered), {ROUNDS} rotating rounds of "
        f"{OPEN_LOOP_SECONDS:.0f} s per side, each latency from the request's scheduled time (a stall is seen by "
        "every call it delays), percentiles over all rounds. Baseline: the owner's registrar reading straight from "
        "the registry. Through the gateway: a consumer with a grant and a purpose (token, grant, purpose, masking "
        "to 4 granted fields, audit entry committed before the answer). The gateway's frame "
        "(`tests/bench/gateway_frame_app.py`): the smallest FastAPI app doing the same hop (a known token, the "
        "forward, the mask, one audit row), the floor of what a Python gateway on this machine adds. Rounds "
        "(direct, gateway, frame): "
        + "; ".join(
            " vs ".join(f"{value:,.0f}" for value in values) + " reads/s"
            for values in zip(rates["direct"], rates["gateway"], rates["frame"], strict=True)
        )
        + ".",
    )
    ratio = rate["gateway"] / rate["direct"]
    direct = f"{rate['direct']:,.0f} reads/s direct"
    table.rows.append(
        Row(
            "throughput through the gateway",
            f"{rate['gateway']:,.0f} reads/s",
            direct,
            f"{ratio:.0%}",
            "≥ 50%",
            ratio >= 0.5,
        )
    )
    frame_ratio = rate["frame"] / rate["direct"]
    table.rows.append(
        Row(
            "throughput through the gateway's frame",
            f"{rate['frame']:,.0f} reads/s",
            direct,
            f"{frame_ratio:.0%}",
            "—",
            None,
        )
    )
    for name, quantile, limit in (("p50", p50, 3.0), ("p99", p99, 10.0)):
        base = f"{quantile['direct']:.2f} ms direct"
        added = quantile["gateway"] - quantile["direct"]
        table.rows.append(
            Row(
                f"{name} added by the gateway",
                f"{quantile['gateway']:.2f} ms",
                base,
                f"{added:+.2f} ms",
                f"≤ +{limit:.0f} ms",
                added <= limit,
            )
        )
        frame_added = quantile["frame"] - quantile["direct"]
        table.rows.append(
            Row(
                f"{name} added by the gateway's frame",
                f"{quantile['frame']:.2f} ms",
                base,
                f"{frame_added:+.2f} ms",
                "—",
                None,
            )
        )
    return table


def _rotated(sides: dict[str, tuple[int, Work]], round_number: int) -> list[tuple[str, tuple[int, Work]]]:
    """The sides in this round's order: each goes first once in every len(sides) rounds, so noise hits all alike."""
    order = list(sides.items())
    shift = round_number % len(order)
    return order[shift:] + order[:shift]


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])
