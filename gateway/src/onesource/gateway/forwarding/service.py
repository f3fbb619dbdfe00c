"""Forwarding ``/api/<service>/<path>`` to the service's own ``<path>`` (until the gateway enforces grants)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

import httpx

from onesource.gateway.forwarding.errors import UnknownService, UnsafePath, UpstreamTimeout, UpstreamUnavailable

logger = logging.getLogger(__name__)

#: Names under ``/api/`` that the gateway answers itself (or will), never forwarded.
RESERVED = frozenset({"identity", "audit"})
#: Request headers passed on to the service.
FORWARDED_REQUEST_HEADERS = (
    "authorization",
    "content-type",
    "accept",
    "if-match",
    "idempotency-key",
    "x-onesource-purpose",
    "x-request-id",
)
#: Response headers passed back to the caller (hop-by-hop and internal headers are dropped). ``X-Request-Id`` is
#: not among them: the gateway's middleware answers it already, and it is the id the service was sent.
FORWARDED_RESPONSE_HEADERS = ("content-type", "etag", "location", "retry-after")


@dataclass(frozen=True)
class Upstream:
    """What the service answered."""

    status: int
    body: bytes
    headers: dict[str, str]


def target_url(service_urls: Mapping[str, str], service: str, raw_rest: str, query: str) -> str:
    """The service's URL for ``raw_rest`` (still percent-encoded as the caller sent it)."""
    base = service_urls.get(service) if service not in RESERVED else None
    if base is None:
        raise UnknownService(f"no service named {service!r} is behind the gateway", service=service)
    if any(unquote(segment) in {".", ".."} for segment in raw_rest.split("/")):
        raise UnsafePath("paths may not contain '.' or '..' segments")
    url = f"{base.rstrip('/')}/{raw_rest.lstrip('/')}"
    return f"{url}?{query}" if query else url


async def forward(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    service: str,
    request_id: str | None,
) -> Upstream:
    """Send the request on and return the answer; 502 when unreachable, 504 on timeout."""
    outgoing = {name: headers[name] for name in FORWARDED_REQUEST_HEADERS if name in headers}
    if request_id:  # the id this request has at the gateway (the caller's, or the one generated for it)
        outgoing["x-request-id"] = request_id
    try:
        response = await http.request(method, url, headers=outgoing, content=body or None)
    except httpx.TimeoutException as error:
        logger.warning("forwarding to %s timed out: %r", service, error)
        raise UpstreamTimeout(f"service {service!r} did not answer in time", service=service) from None
    except httpx.TransportError as error:
        logger.warning("forwarding to %s failed: %r", service, error)
        raise UpstreamUnavailable(f"service {service!r} is unreachable", service=service) from None
    kept = {name: response.headers[name] for name in FORWARDED_RESPONSE_HEADERS if name in response.headers}
    return Upstream(status=response.status_code, body=response.content, headers=kept)
