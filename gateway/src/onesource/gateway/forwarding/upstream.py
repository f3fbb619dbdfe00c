"""The gateway's HTTP client for the services behind it.

Every call through the one door makes one request here, so this hop is on the latency budget of every read. It
uses aiohttp, whose client costs a fraction of httpx's per request (`make bench`, gateway read path); httpx stays
the kit's client for everything that is not on the data path (key sets, the grants fallback, health probes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from yarl import URL

from onesource.gateway.forwarding.errors import InvalidHeader, UpstreamTimeout, UpstreamUnavailable
from onesource.kit.telemetry import current_trace_context, tracer

logger = logging.getLogger(__name__)
_tracer = tracer(__name__)

#: Response headers the gateway may pass on; the rest of a service's headers are never read.
RESPONSE_HEADERS = ("content-type", "etag", "location", "retry-after")


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


class AiohttpUpstreams:
    """Keep-alive connections to the services, shared by every call of the process."""

    def __init__(self, *, connections: int = 200) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections, limit_per_host=0, keepalive_timeout=30),
            # One deadline per call, set by `send`: aiohttp's own timeouts are per phase.
            timeout=aiohttp.ClientTimeout(total=None),
            # No User-Agent of aiohttp's, and no compression the gateway would have to undo before masking.
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
            raise_for_status=False,
        )

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
        with _tracer.start_as_current_span(method, kind=SpanKind.CLIENT) as span:
            if span.is_recording():
                span.set_attribute("http.request.method", method)
                span.set_attribute("server.address", service)
            outgoing = [(_text(name), _text(value)) for name, value in headers]
            outgoing.extend(current_trace_context().items())
            try:
                async with asyncio.timeout(timeout):
                    async with self._session.request(
                        method,
                        # as the caller sent it: re-encoding could change what the path means to the service
                        URL(url, encoded=True),
                        headers=outgoing,
                        data=body or None,
                        allow_redirects=False,
                    ) as response:
                        content = await response.read()
            except TimeoutError as error:
                raise timed_out(service, error) from None
            except aiohttp.ClientError as error:
                raise unreachable(service, error) from None
            if span.is_recording():
                span.set_attribute("http.response.status_code", response.status)
                if response.status >= 500:
                    span.set_status(trace.StatusCode.ERROR)
            return answer(response.status, content, response.headers)

    async def aclose(self) -> None:
        """See :class:`Upstreams`."""
        await self._session.close()


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


def _text(raw: bytes) -> str:
    """A header as aiohttp takes it (text, sent as UTF-8): a purpose may be Chinese, but it must be UTF-8."""
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise InvalidHeader("header values must be ASCII or UTF-8") from None
