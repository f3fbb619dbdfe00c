"""The nemesis: faults at random (seeded) moments, each recorded in the history with when it ended."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer

from onesource.kit.embedded import EmbeddedPostgres, PostgresBinaries
from onesource.kit.kafka import start_client
from onesource.kit.testing.proxy import TcpProxy
from onesource.mesh.state import read_health, read_pids
from tests.faults.history import History
from tests.faults.workload import Workload

KINDS = (
    "kill-registry",
    "kill-relay",
    "cut-broker",
    "restart-postgres",
    "kill-gateway",
    "kill-projector",
    "rebalance",
)
#: The exchange's projector group (``exchange.projector.consumer.PROJECTOR_GROUP``).
PROJECTOR_GROUP = "exchange-projector"
#: How long a killed service may take to be restarted and ready (the relay imports every service's app: on two
#: busy cores that alone can take a minute).
BACK_WITHIN_S = 240.0
#: How long the nemesis's member waits to be given partitions: the join completes once every member has rejoined,
#: and the projector rejoins only between batches (long on busy cores, or waiting out a database restart).
JOIN_WITHIN_S = 60.0


class NemesisFailed(RuntimeError):
    """The mesh did not come back from a fault: that is a finding, not a flaky test."""


#: Faults run in two lanes at once, so that they overlap (a kill while the broker is cut, the database restarting
#: while a service starts); a lane's kinds never touch the same process as each other's.
LANES = (
    ("kill-registry", "kill-gateway", "cut-broker", "rebalance"),
    ("kill-relay", "kill-projector", "restart-postgres"),
)


def schedule(rng: random.Random, count: int) -> list[list[str]]:
    """``count`` faults, every kind as often as the others (±1), in a random order within each lane."""
    kinds = [KINDS[i % len(KINDS)] for i in range(count)]
    lanes = [[kind for kind in kinds if kind in lane] for lane in LANES]
    for lane in lanes:
        rng.shuffle(lane)
    return lanes


@dataclass
class Nemesis:
    var: Path
    pg_port: int
    proxy: TcpProxy
    services: dict[str, str]
    """Service name → base URL (the relay's too)."""
    history: History
    workload: Workload
    rng: random.Random
    kafka_bootstrap: str
    injected: dict[str, int] = field(default_factory=dict)
    registries_killed: dict[str, int] = field(default_factory=dict)
    """How often each driven registry's service was the one ``kill-registry`` killed."""

    async def run(self, count: int) -> None:
        actions: dict[str, Callable[[random.Random], Awaitable[str]]] = {
            "kill-registry": self._kill_registry,
            "kill-relay": lambda _: self._kill("relay", lambda: True),
            "cut-broker": self._cut_broker,
            "restart-postgres": self._restart_postgres,
            "kill-gateway": lambda _: self._kill("gateway", lambda: self.workload.inflight_reads > 0),
            "kill-projector": lambda _: self._kill("exchange", lambda: True),
            "rebalance": self._rebalance,
        }
        lanes = schedule(self.rng, count)
        # Each lane its own generator, drawn in a fixed order: the same seed gives the same choices per lane.
        rngs = [random.Random(self.rng.randrange(2**32)) for _ in lanes]
        await asyncio.gather(
            *(self._lane(n, kinds, rng, actions) for n, (kinds, rng) in enumerate(zip(lanes, rngs, strict=True)))
        )

    async def _lane(
        self,
        n: int,
        kinds: list[str],
        rng: random.Random,
        actions: dict[str, Callable[[random.Random], Awaitable[str]]],
    ) -> None:
        for kind in kinds:
            await asyncio.sleep(rng.uniform(0.2, 1.2))
            at = self.history.now()
            start = self.history.record(f"nemesis-{n}", "fault", kind, outcome="ok")
            how = await actions[kind](rng)
            took = round(self.history.now() - at, 2)
            self.history.record(
                f"nemesis-{n}", "fault", f"{kind} healed", outcome="ok", began=start.index, how=how, took=took
            )
            self.injected[kind] = self.injected.get(kind, 0) + 1

    async def _kill_registry(self, rng: random.Random) -> str:
        """Kill one of the registries the workload drives, with a write of its own in flight."""
        driven = self.workload.registries[rng.choice(sorted(self.workload.registries))]
        how = await self._kill(driven.profile.service, lambda: driven.inflight_writes > 0)
        service = driven.profile.service
        self.registries_killed[service] = self.registries_killed.get(service, 0) + 1
        return f"{service}: {how}"

    async def _kill(self, service: str, moment: Callable[[], bool]) -> str:
        """SIGKILL ``service``'s process group at a moment ``moment()`` holds (a call in flight), and wait until the
        supervisor has it running and ready again."""
        for _ in range(100):  # up to 2 s for a call in flight
            if moment():
                break
            await asyncio.sleep(0.02)
        pids = read_pids(self.var)
        if pids is None or service not in pids.services:
            raise NemesisFailed(f"{service} is not running (mesh.pids: {pids})")
        before = read_health(self.var).get(service, {}).get("restarts", 0)
        victim = pids.services[service]
        in_flight = moment()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(victim.pid, signal.SIGKILL)
        await self._back(service, int(before))
        return f"SIGKILL pid {victim.pid}" + (" with a call in flight" if in_flight else "")

    async def _back(self, service: str, restarts_before: int) -> None:
        """Wait until the supervisor has restarted ``service`` and seen it ready."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BACK_WITHIN_S
        while loop.time() < deadline:
            health = read_health(self.var).get(service, {})
            if health.get("state") == "gave up":
                raise NemesisFailed(f"the supervisor gave up on {service}: {health}")
            if int(health.get("restarts", 0)) > restarts_before and health.get("state") == "up":
                return
            await asyncio.sleep(0.2)
        raise NemesisFailed(f"{service} not back within {BACK_WITHIN_S} s: {read_health(self.var).get(service)}")

    async def _ready(self, service: str) -> None:
        deadline = asyncio.get_running_loop().time() + BACK_WITHIN_S
        async with httpx.AsyncClient(timeout=2.0) as client:
            while asyncio.get_running_loop().time() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.services[service]}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise NemesisFailed(f"{service} not ready within {BACK_WITHIN_S} s")

    async def _cut_broker(self, rng: random.Random) -> str:
        outage = rng.uniform(1.0, 4.0)
        await self.proxy.cut()
        await asyncio.sleep(outage)
        await self.proxy.start()
        return f"broker unreachable for {outage:.1f} s"

    async def _restart_postgres(self, rng: random.Random) -> str:
        """The mesh's PostgreSQL stopped ``-m immediate`` and started again; with it, when a driven registry keeps
        its data there, the PostgreSQL with PostGIS (geo's)."""
        servers = [EmbeddedPostgres(self.var / "postgres", port=self.pg_port)]
        pids = read_pids(self.var)
        if any(driven.profile.postgis for driven in self.workload.registries.values()):
            if pids is None or pids.postgis is None:
                raise NemesisFailed(f"a driven registry needs PostGIS; the mesh runs none (mesh.pids: {pids})")
            record = pids.postgis
            binaries = PostgresBinaries(Path(record.bin_dir), 0, "PostgreSQL with PostGIS")
            servers.append(EmbeddedPostgres(Path(record.data_dir), port=record.port, binaries=binaries))
        down = rng.uniform(0.2, 2.0)
        await asyncio.gather(*(asyncio.to_thread(server.stop, "immediate") for server in servers))
        await asyncio.sleep(down)
        await asyncio.gather(*(asyncio.to_thread(server.start) for server in servers))
        for service in sorted({driven.profile.service for driven in self.workload.registries.values()}):
            await self._ready(service)
        ports = ", ".join(str(server.port) for server in servers)
        return f"pg_ctl stop -m immediate (port {ports}), down {down:.1f} s"

    async def _rebalance(self, rng: random.Random) -> str:
        """A member joins the projector's group on one driven registry's topic (it takes partitions, consumes, never
        commits), then leaves."""
        topic = self.workload.registries[rng.choice(sorted(self.workload.registries))].profile.topic
        member = AIOKafkaConsumer(
            topic,
            bootstrap_servers=self.kafka_bootstrap,
            group_id=PROJECTOR_GROUP,
            client_id="nemesis-member",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=1500,
            heartbeat_interval_ms=500,
        )
        stay = rng.uniform(2.0, 5.0)
        taken = 0
        try:
            try:
                await start_client(member, timeout=JOIN_WITHIN_S)
            except TimeoutError:
                # Asking to join has made the group rebalance; a join that does not complete is no reason to stop the
                # run: a projector that never comes back leaves events undelivered, which the checker names.
                return f"a member asked to join {PROJECTOR_GROUP} on {topic}; no assignment within {JOIN_WITHIN_S} s"
            loop = asyncio.get_running_loop()
            until = loop.time() + stay
            while loop.time() < until:
                batches = await member.getmany(timeout_ms=200)
                taken += sum(len(messages) for messages in batches.values())
            assigned = sorted(partition.partition for partition in member.assignment())
        finally:
            await member.stop()
        return (
            f"a member in {PROJECTOR_GROUP} on {topic} for {stay:.1f} s "
            f"(partitions {assigned}, saw {taken} without committing)"
        )
