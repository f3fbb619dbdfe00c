"""Gateway read path: one person through the gateway against the same read straight from the registry.

Target (DESIGN.md): through the gateway (token, grant, purpose, masking, audit) ≥ 50% of the direct throughput at
the same concurrency, in the same run, adding ≤ 3 ms at p50 and ≤ 10 ms at p99.

Both sides run against one local mesh (`onesource up`, every service its own process, embedded PostgreSQL and
broker). Direct: the owner's registrar reads `GET /v1/persons/{id}` from the registry, which verifies the token and
reads the row. Through the gateway: a consumer department with a grant on `population.person` reads
`GET /api/population/v1/persons/{id}` with its purpose; the gateway verifies the token, finds the covering
resources and the grants, forwards with its own token, masks the answer, commits the audit entry, answers.
Throughput is measured with 8 concurrent readers; added latency with one reader at a time (under load latency
is queueing, concurrency / throughput, and would only restate the throughput ratio). Throughput rounds alternate
(direct, gateway, …) and latency reads alternate read by read, so that the machine's noise hits both sides;
medians are reported. The load generator runs on the same
machine and takes CPU from both sides alike.
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
from tests.mesh_process import start_mesh, stop_mesh

ROUNDS = 3
#: Throughput: both sides at the same concurrency, long enough to average over the machine's noise.
THROUGHPUT_SECONDS = 6.0
CONCURRENCY = 8
#: Added latency: one reader at a time, so the figures are the work per call and not time spent queueing (at
#: concurrency C, latency is C / throughput and would only restate the throughput ratio); reads per side per round.
LATENCY_READS = 500
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


async def _load(
    http: httpx.AsyncClient, urls: list[str], headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[float, list[float]]:
    """Read ``urls`` round-robin from ``concurrency`` workers for ``seconds``; (requests/s, latencies in ms)."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    failures: list[str] = []

    async def worker(offset: int) -> None:
        index = offset
        while time.perf_counter() < stop:
            started = time.perf_counter()
            response = await http.get(urls[index % len(urls)], headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text[:200]}")
            index += concurrency

    began = time.perf_counter()
    await asyncio.gather(*(worker(offset) for offset in range(concurrency)))
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} reads failed, e.g. {failures[0]}")
    return len(latencies) / elapsed, latencies


async def _interleaved(
    http: httpx.AsyncClient, sides: tuple[tuple[str, list[str], dict[str, str]], ...], reads: int
) -> dict[str, list[float]]:
    """One reader, alternating sides read by read; latencies in ms per side.

    Alternating every read rather than every few seconds: on a shared machine the other tenants' load comes and
    goes within seconds, and a slow spell then hits both sides alike.
    """
    latencies: dict[str, list[float]] = {side: [] for side, _, _ in sides}
    for index in range(reads):
        for side, urls, headers in sides:
            started = time.perf_counter()
            response = await http.get(urls[index % len(urls)], headers=headers)
            latencies[side].append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{side} read failed: {response.status_code} {response.text[:200]}")
    return latencies


async def bench_gateway(servers: Infrastructure, console: Console) -> Table:
    """Direct registry reads against reads through the gateway, alternating rounds."""
    del servers  # the mesh starts its own embedded PostgreSQL and broker, as `make run` does
    with tempfile.TemporaryDirectory(prefix="onesource-bench-mesh-") as scratch:
        # Its own embedded servers: nothing of the caller's environment may point it elsewhere.
        env = {key: value for key, value in os.environ.items() if not key.startswith("ONESOURCE_")}
        process, mesh = await asyncio.to_thread(start_mesh, Path(scratch) / "var", env, pg_port=find_free_port())
        console.print(f"mesh up: gateway {mesh['gateway']}")
        try:
            return await _measure(mesh, console)
        finally:
            await asyncio.to_thread(stop_mesh, process)


async def _measure(mesh: dict[str, Any], console: Console) -> Table:
    gateway, registry = mesh["gateway"], mesh["services"]["population"]
    clients = {client["client_id"]: client for client in mesh["demo_clients"]}
    registrar = clients["psb-registrar"]
    owner_token = _token(gateway, registrar["client_id"], registrar["client_secret"])
    owner = {"Authorization": f"Bearer {owner_token}", "X-OneSource-Purpose": "benchmark"}
    listed = httpx.get(f"{gateway}/api/population/v1/persons", params={"limit": 200}, headers=owner)
    listed.raise_for_status()
    ids = [item["id_number"] for item in listed.json()["items"]]
    consumer = {"Authorization": f"Bearer {_consumer_with_grant(mesh)}", "X-OneSource-Purpose": PURPOSE}
    deadline = time.monotonic() + 60
    while httpx.get(f"{gateway}/api/population/v1/persons/{ids[0]}", headers=consumer).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("the gateway never saw the benchmark's grant")
        await asyncio.sleep(0.2)

    direct_urls = [f"{registry}/v1/persons/{id_number}" for id_number in ids]
    gateway_urls = [f"{gateway}/api/population/v1/persons/{id_number}" for id_number in ids]
    direct_headers = {"Authorization": f"Bearer {owner_token}"}
    rates: dict[str, list[float]] = {"direct": [], "gateway": []}
    latencies: dict[str, list[float]] = {"direct": [], "gateway": []}
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    sides = (("direct", direct_urls, direct_headers), ("gateway", gateway_urls, consumer))
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as http:
        for _, urls, headers in sides:  # warm both paths: connections, caches, the gateway's token for the department
            await _load(http, urls, headers, 1.0, CONCURRENCY)
        for round_number in range(1, ROUNDS + 1):
            for side, urls, headers in sides:
                rate, _ = await _load(http, urls, headers, THROUGHPUT_SECONDS, CONCURRENCY)
                rates[side].append(rate)
                console.print(f"round {round_number} {side}: {rate:,.0f} reads/s at {CONCURRENCY} concurrent")
            measured = await _interleaved(http, sides, LATENCY_READS)
            for side, values in measured.items():
                latencies[side].extend(values)
            console.print(
                f"round {round_number} one at a time: p50 {percentile(measured['direct'], 0.5):.2f} ms direct, "
                f"{percentile(measured['gateway'], 0.5):.2f} ms through the gateway"
            )

    direct_rate, gateway_rate = statistics.median(rates["direct"]), statistics.median(rates["gateway"])
    ratio = gateway_rate / direct_rate
    p50 = {side: percentile(values, 0.5) for side, values in latencies.items()}
    p99 = {side: percentile(values, 0.99) for side, values in latencies.items()}
    added50, added99 = p50["gateway"] - p50["direct"], p99["gateway"] - p99["direct"]
    table = Table(
        "Gateway read path",
        f"One person by id, {ROUNDS} alternating rounds per side of {THROUGHPUT_SECONDS:.0f} s with "
        f"{CONCURRENCY} concurrent readers (throughput: median of the rounds), and {LATENCY_READS} reads per side "
        "per round by one reader alternating direct and gateway read by read (latency percentiles over all "
        "rounds). "
        "Baseline: the owner's registrar reading straight from the registry. Through the gateway: a consumer "
        "with a grant and a purpose (token, grant, purpose, masking to 4 granted fields, audit entry committed "
        "before the answer). Rounds: "
        + "; ".join(
            f"{direct:,.0f} vs {through:,.0f} reads/s"
            for direct, through in zip(rates["direct"], rates["gateway"], strict=True)
        )
        + ".",
    )
    table.rows.append(
        Row(
            "throughput through the gateway",
            f"{gateway_rate:,.0f} reads/s",
            f"{direct_rate:,.0f} reads/s direct",
            f"{ratio:.0%}",
            "≥ 50%",
            ratio >= 0.5,
        )
    )
    table.rows.append(
        Row(
            "p50 added by the gateway",
            f"{p50['gateway']:.2f} ms",
            f"{p50['direct']:.2f} ms direct",
            f"+{added50:.2f} ms",
            "≤ +3 ms",
            added50 <= 3.0,
        )
    )
    table.rows.append(
        Row(
            "p99 added by the gateway",
            f"{p99['gateway']:.2f} ms",
            f"{p99['direct']:.2f} ms direct",
            f"+{added99:.2f} ms",
            "≤ +10 ms",
            added99 <= 10.0,
        )
    )
    return table
