"""A light HTTP/1.1 load generator for the benchmarks: keep-alive connections over asyncio streams.

A Python client must itself be light, or it measures itself: httpx made the frame look two to three times slower
than it is. This one writes the request bytes and reads the status line, headers and ``Content-Length`` body —
nothing else — so a request costs it tens of microseconds against the servers' hundreds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[bytes, bytes]
    body: bytes


class Connection:
    """One keep-alive connection to ``host:port``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self._reader = reader
        self._writer = writer
        self._host = host.encode()

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Answer:
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self._host]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}".encode())
        if body:
            lines.append(b"Content-Length: " + str(len(body)).encode())
        self._writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].split(b"\r\n")
        parsed: dict[bytes, bytes] = {}
        for header_line in header_lines:
            header_name, _, header_value = header_line.partition(b":")
            parsed[header_name.strip().lower()] = header_value.strip()
        length = int(parsed.get(b"content-length", b"0"))
        return Answer(int(status_line.split(b" ", 2)[1]), parsed, await self._reader.readexactly(length))

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()


@dataclass
class Run:
    """What a load run saw."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    failures: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


#: One unit of work on a connection: a request (or a few), True when it succeeded.
Work = Callable[[Connection, int], Awaitable[bool]]


async def closed_loop(host: str, port: int, work: Work, *, concurrency: int, seconds: float) -> Run:
    """``concurrency`` workers each doing ``work`` back to back for ``seconds``; latencies of each unit."""
    connections = [await Connection.open(host, port) for _ in range(concurrency)]
    run = Run(seconds)
    deadline = time.perf_counter() + seconds

    async def worker(index: int, connection: Connection) -> None:
        iteration = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = await work(connection, index * 1_000_000 + iteration)
            if ok:
                run.latencies.append(time.perf_counter() - started)
            else:
                run.failures += 1
            iteration += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i, c) for i, c in enumerate(connections)))
    run.seconds = time.perf_counter() - started
    for connection in connections:
        await connection.close()
    return run


#: How often the open loop releases the units that have come due: one timer for many units, not one per unit.
TICK_SECONDS = 0.001


async def open_loop(host: str, port: int, work: Work, *, rate: float, seconds: float, connections: int = 64) -> Run:
    """Units of ``work`` started at a fixed ``rate`` whatever the answers do; latency from each scheduled start.

    A unit waits for a free connection when all are busy, and that wait counts: a server that stalls is seen
    stalling, not hidden by a client that slows down with it (coordinated omission). A pacer releases the units
    due every tick to one worker per connection (no task and no timer per unit: a timer per unit cost the generator
    more CPU than the servers it measures).
    """
    opened = [await Connection.open(host, port) for _ in range(connections)]
    run = Run(seconds)
    total = int(rate * seconds)
    start = time.perf_counter() + 0.05
    due: asyncio.Queue[int] = asyncio.Queue()

    async def pacer() -> None:
        released = 0
        while released < total:
            await asyncio.sleep(TICK_SECONDS)
            ready = min(total, int((time.perf_counter() - start) * rate) + 1)
            for number in range(released, ready):
                due.put_nowait(number)
            released = max(released, ready)
        for _ in opened:
            due.put_nowait(-1)

    async def worker(connection: Connection) -> None:
        while (number := await due.get()) >= 0:
            scheduled = start + number / rate
            ok = await work(connection, number)
            if ok:
                run.latencies.append(time.perf_counter() - scheduled)
            else:
                run.failures += 1

    await asyncio.gather(pacer(), *(worker(connection) for connection in opened))
    run.seconds = time.perf_counter() - start
    for connection in opened:
        await connection.close()
    return run
