"""A TCP proxy a test can cut and restore: a server that becomes unreachable while keeping its state."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``; :meth:`cut` drops every connection and refuses new ones.

    A broker outage as its clients see it, without the broker losing what it holds (an in-memory broker that is
    restarted comes back empty, which is not an outage but a new broker).
    """

    def __init__(self, port: int, target_host: str, target_port: int) -> None:
        self.port = port
        self.target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Accept connections (again, after :meth:`cut`)."""
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        """Close the listening socket and every open connection: clients now get "connection refused"."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        pipes, self._pipes = self._pipes, set()
        for pipe in pipes:
            pipe.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def stop(self) -> None:
        """Cut for good."""
        await self.cut()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            await asyncio.gather(_pump(client_reader, server_writer), _pump(server_reader, client_writer))
        except asyncio.CancelledError:
            # Cut: asyncio's stream callback asks this task for its exception, which raises (and is logged as an
            # error) for a task that ends cancelled; a cut connection is how this task is meant to end.
            pass
        finally:
            self._pipes.discard(task)
            for writer in (client_writer, server_writer):
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
