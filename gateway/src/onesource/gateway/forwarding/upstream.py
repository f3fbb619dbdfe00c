"""The gateway's HTTP client for the services behind it.

Every call through the one door makes one request here, so this hop is on the CPU and latency budget of every
read. It is HTTP/1.1 over keep-alive connections, on asyncio protocols, with llhttp (``httptools``, the parser
uvicorn serves with) reading the answers: about 45 µs of the gateway's CPU per call against aiohttp's 160–200 µs
(`make bench`, gateway read path). It does only what forwarding needs: one request at a time per connection, a
body whole or streamed chunked, the whole answer read, and the few answer headers the gateway may pass on. httpx
stays the kit's client for everything that is not on the data path (key sets, the grants fallback, probes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, cast
from urllib.parse import urlsplit

import httptools
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from onesource.gateway.forwarding.errors import InvalidHeader, UpstreamTimeout, UpstreamUnavailable
from onesource.kit.telemetry import current_trace_context, tracer

logger = logging.getLogger(__name__)
_tracer = tracer(__name__)

#: Response headers the gateway may pass on; the rest of a service's headers are never read.
RESPONSE_HEADERS = ("content-type", "etag", "location", "retry-after")
_KEPT = frozenset(name.encode() for name in RESPONSE_HEADERS)
#: An idle connection is dropped after this long: before the service's own keep-alive timeout (uvicorn: 5 s)
#: closes it, so that a request is not sent on a connection the service is closing.
IDLE_SECONDS = 3.0
#: Methods that may be sent again on a fresh connection when a kept one turns out closed before any answer.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Upstream:
    """What the service answered."""

    status: int
    body: bytes
    headers: dict[str, str]
    """Only the headers named in :data:`RESPONSE_HEADERS`, lower-case."""


class Upstreams(Protocol):
    """Sends one request to a service and returns its whole answer."""

    async def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes | AsyncIterable[bytes],
        *,
        service: str,
        timeout: float,
    ) -> Upstream:
        """The whole answer of the service; ``body`` whole, or streamed as it comes (chunked).

        :class:`UpstreamUnavailable` (502) when it is unreachable, :class:`UpstreamTimeout` (504) when it is not
        done within ``timeout`` seconds.
        """
        ...

    async def aclose(self) -> None:
        """Close the connections."""
        ...


class _Closed(ConnectionError):
    """The connection ended before the answer did; ``answered`` when some of the answer had arrived."""

    def __init__(self, answered: bool) -> None:
        super().__init__("the service closed the connection before its answer was complete")
        self.answered = answered


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, its answer parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._answer: asyncio.Future[Upstream] | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._head_only = False
        self._status = 0
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._framed = False
        """The answer says where its body ends (``Content-Length`` or chunked); otherwise the close does."""
        self._answered = False
        self._reusable = False
        self._writable: asyncio.Future[None] | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._parser is None:  # nothing was asked: a service talking out of turn
            self.close()
            return
        self._answered = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(error)
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answer is not None and not self._answer.done():
            if self._status and not self._framed and self._parser is not None:
                self._finish(reusable=False)  # an answer whose body ends with the connection
            else:
                self._fail(_Closed(self._answered))
        self._wake_writer()

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._wake_writer()

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._parser is None:  # past the end of the answer: bytes the service should not have sent
            return
        name = name.lower()
        if name in _KEPT:
            self._headers.setdefault(name.decode(), value.decode("latin-1"))
        elif name in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        if self._parser is None:
            return
        self._status = self._parser.get_status_code()
        if self._head_only:  # an answer to HEAD has no body, whatever its Content-Length says
            self._finish(reusable=self._parser.should_keep_alive())

    def on_body(self, body: bytes) -> None:
        if self._parser is not None:
            self._body.append(body)

    def on_message_complete(self) -> None:
        if self._answer is not None and not self._answer.done():
            assert self._parser is not None
            self._finish(reusable=self._parser.should_keep_alive())

    # the client's side

    def begin(self, head_only: bool) -> asyncio.Future[Upstream]:
        """Make ready for the answer to the request about to be written."""
        self._parser = httptools.HttpResponseParser(self)
        self._head_only = head_only
        self._status, self._headers, self._body = 0, {}, []
        self._framed = self._answered = self._reusable = False
        self._answer = asyncio.get_running_loop().create_future()
        return self._answer

    @property
    def reusable(self) -> bool:
        """Whether the last answer was complete and the connection may carry another request."""
        return self._reusable and not self.closed

    @property
    def answered(self) -> bool:
        """Whether the answer to the request in flight is complete (the service may answer before an upload ends)."""
        return self._answer is not None and self._answer.done()

    async def writable(self) -> None:
        """Return when the transport takes more data (flow control), the answer is in, or the connection ended."""
        if self._writable is not None and not self.closed and not self.answered:
            await self._writable

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        self._wake_writer()

    def _finish(self, *, reusable: bool) -> None:
        self._reusable = reusable
        self._parser = None
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            answer.set_result(Upstream(self._status, b"".join(self._body), self._headers))
            self._answer = answer  # kept, done, so that ``answered`` holds until the next ``begin``
        self._wake_writer()

    def _fail(self, error: BaseException) -> None:
        self._parser = None
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(error)

    def _wake_writer(self) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)


@dataclass(frozen=True, slots=True)
class _Origin:
    scheme: str
    host: str
    port: int

    @property
    def netloc(self) -> bytes:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (host if self.port == default else f"{host}:{self.port}").encode()


class HttpUpstreams:
    """Keep-alive connections to the services, shared by every call of the process, at most ``connections`` open."""

    def __init__(self, *, connections: int = 200) -> None:
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._slots = asyncio.Semaphore(connections)
        self._tls: ssl.SSLContext | None = None
        self._closed = False

    async def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes | AsyncIterable[bytes],
        *,
        service: str,
        timeout: float,
    ) -> Upstream:
        """See :class:`Upstreams`."""
        # A client span only when the trace is recorded: otherwise it would cost more than the call's own work and
        # show nowhere; the service continues the trace from the gateway's server span (its ids are sent either way).
        recording = trace.get_current_span().is_recording()
        spanning = (
            _tracer.start_as_current_span(method, kind=SpanKind.CLIENT) if recording else contextlib.nullcontext()
        )
        with spanning as span:
            if span is not None:
                span.set_attribute("http.request.method", method)
                span.set_attribute("server.address", service)
            try:
                origin, target = _split(url)
            except ValueError as error:
                raise unreachable(service, error) from None
            head = _head(method, target, origin, headers, body)
            try:
                async with asyncio.timeout(timeout), self._slots:
                    for attempt in range(2):
                        connection, reused = await self._connection(origin)
                        try:
                            upstream = await _exchange(connection, method, head, body)
                        except _Closed as error:
                            connection.close()
                            # A kept connection the service closed meanwhile: nothing of the request was answered, and
                            # sending a read again is safe. Anything else is the service's failure.
                            idempotent = method in _IDEMPOTENT and isinstance(body, bytes)
                            if reused and attempt == 0 and not error.answered and idempotent:
                                continue
                            raise
                        except BaseException:
                            connection.close()
                            raise
                        self._release(origin, connection)
                        break
            except TimeoutError as error:
                raise timed_out(service, error) from None
            except (OSError, httptools.HttpParserError) as error:
                raise unreachable(service, error) from None
            if span is not None:
                span.set_attribute("http.response.status_code", upstream.status)
                if upstream.status >= 500:
                    span.set_status(trace.StatusCode.ERROR)
            return upstream

    async def _connection(self, origin: _Origin) -> tuple[_Connection, bool]:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < IDLE_SECONDS:
                return connection, True
            connection.close()
        if self._closed:
            raise ConnectionError("the gateway's client is closed")
        tls = None
        if origin.scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        _, connection = await asyncio.get_running_loop().create_connection(
            _Connection, origin.host, origin.port, ssl=tls
        )
        return connection, False

    def _release(self, origin: _Origin, connection: _Connection) -> None:
        if self._closed or not connection.reusable:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        self._idle.setdefault(origin, []).append(connection)

    async def aclose(self) -> None:
        """See :class:`Upstreams`."""
        self._closed = True
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()


async def _exchange(connection: _Connection, method: str, head: bytes, body: bytes | AsyncIterable[bytes]) -> Upstream:
    """Write one request on ``connection`` and return its answer."""
    transport = connection.transport
    if transport is None or connection.closed:
        raise _Closed(answered=False)
    answer = connection.begin(head_only=method == "HEAD")
    if isinstance(body, bytes):
        transport.write(head + body)
    else:
        transport.write(head)
        async for chunk in body:
            if connection.answered or connection.closed:
                # The service answered (or went) before the upload ended: the rest is not sent, and the connection,
                # its request unfinished, is not used again.
                connection.close()
                break
            if chunk:
                transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                await connection.writable()
        else:
            transport.write(b"0\r\n\r\n")
    return await answer


def _split(url: str) -> tuple[_Origin, bytes]:
    """The origin of ``url`` and its request target, byte for byte as given (already percent-encoded)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Origin(parts.scheme, parts.hostname, port), target.encode("ascii")


def _head(
    method: str,
    target: bytes,
    origin: _Origin,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes | AsyncIterable[bytes],
) -> bytes:
    """The request line and headers; the caller's header values are passed as they came, if they are UTF-8."""
    lines = [method.encode("ascii") + b" " + target + b" HTTP/1.1", b"host: " + origin.netloc]
    for name, value in headers:
        _check_header(value)
        lines.append(name + b": " + value)
    for name_text, value_text in current_trace_context().items():
        lines.append(name_text.encode("latin-1") + b": " + value_text.encode("latin-1"))
    if isinstance(body, bytes):
        if body or method not in _IDEMPOTENT:
            lines.append(b"content-length: %d" % len(body))
    else:
        lines.append(b"transfer-encoding: chunked")
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


def _check_header(value: bytes) -> None:
    """A header as it may be passed on: UTF-8 (a purpose may be Chinese), and one line."""
    if value.isascii():
        if b"\r" in value or b"\n" in value:
            raise InvalidHeader("header values must be one line")
        return
    try:
        value.decode()
    except UnicodeDecodeError:
        raise InvalidHeader("header values must be ASCII or UTF-8") from None


def answer(status: int, body: bytes, headers: Mapping[str, str]) -> Upstream:
    """The service's answer as the gateway keeps it: status, body and the headers it may pass on."""
    return Upstream(
        status=status, body=body, headers={name: headers[name] for name in RESPONSE_HEADERS if name in headers}
    )


def timed_out(service: str, error: BaseException) -> UpstreamTimeout:
    """The 504 of a service that did not answer in time (logged: it is the service's failure, not the caller's)."""
    logger.warning("forwarding to %s timed out: %r", service, error)
    return UpstreamTimeout(f"service {service!r} did not answer in time", service=service)


def unreachable(service: str, error: BaseException) -> UpstreamUnavailable:
    """The 502 of a service that could not be reached (logged)."""
    logger.warning("forwarding to %s failed: %r", service, error)
    return UpstreamUnavailable(f"service {service!r} is unreachable", service=service)
