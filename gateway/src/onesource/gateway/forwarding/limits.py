"""Per-client rate limits (token buckets) and request size limits: body bytes (held or streamed) and page size."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import AsyncIterator, Iterable

from starlette.requests import ClientDisconnect, Request

from onesource.gateway.forwarding.errors import PageTooLarge, RateLimited
from onesource.kit.errors import BadRequest, ContentTooLarge, ServiceError

#: Above this many buckets, idle full ones are dropped (they hold no information: a new bucket starts full).
_PRUNE_ABOVE = 10_000


class TokenBuckets:
    """One token bucket per client in this process: ``burst`` calls at once, ``rate`` per second sustained."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[str, list[float]] = {}  # client → [tokens, last refill (monotonic)]

    def take(self, client: str, now: float | None = None) -> None:
        """Spend one token of ``client``; :class:`RateLimited` with ``Retry-After`` when none is left."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= _PRUNE_ABOVE:
                self._prune(now)
            bucket = self._buckets[client] = [self.burst, now]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            wait = (1.0 - tokens) / self.rate
            raise RateLimited(
                f"client {client!r} exceeds {self.rate:g} calls per second; retry in {wait:.2f} s",
                retry_after=max(1, math.ceil(wait)),
            )
        bucket[0] = tokens - 1.0

    def _prune(self, now: float) -> None:
        full = [
            client
            for client, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.rate >= self.burst
        ]
        for client in full:
            del self._buckets[client]


class BodyDigest:
    """SHA-256 and size of a request body, taken as it is read or streamed (for the audit entry's request hash)."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self.size = 0
        self.interrupted: ServiceError | None = None
        """Why a streamed body was broken off (too large, or its sender went away): the call's answer."""

    def update(self, chunk: bytes) -> None:
        """Take the next piece of the body."""
        self._sha256.update(chunk)
        self.size += len(chunk)

    def digest(self) -> bytes:
        """The SHA-256 of the body so far."""
        return self._sha256.digest()


def declared_length(request: Request, limit: int) -> int | None:
    """The declared ``Content-Length``; 400 when it is not a number, 413 above ``limit``."""
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    try:
        length = int(declared)
    except ValueError:
        raise BadRequest("Content-Length is not a number") from None
    if length > limit:
        raise ContentTooLarge(f"the body has {length} bytes; at most {limit} are accepted", limit=limit)
    return length


async def read_body(request: Request, limit: int, digest: BodyDigest | None = None) -> bytes:
    """The request body, refused with 413 ``content-too-large`` above ``limit`` bytes, declared or sent."""
    declared_length(request, limit)
    digest = digest or BodyDigest()
    chunks: list[bytes] = []
    async for chunk in request.stream():  # a chunked body declares no length: count while reading
        if digest.size + len(chunk) > limit:
            raise ContentTooLarge(f"the body has more than {limit} bytes", limit=limit)
        digest.update(chunk)
        chunks.append(chunk)
    return b"".join(chunks)


async def streamed_body(request: Request, limit: int, digest: BodyDigest) -> AsyncIterator[bytes]:
    """The request body piece by piece as it arrives, broken off past ``limit`` bytes or when the sender goes away.

    Breaking off makes the service see an upload that never ended, which it must treat as such (a bulk import
    then imports nothing); why is in ``digest.interrupted``, which is the caller's answer.
    """
    try:
        async for chunk in request.stream():
            if digest.size + len(chunk) > limit:
                digest.interrupted = ContentTooLarge(f"the body has more than {limit} bytes", limit=limit)
                raise digest.interrupted
            digest.update(chunk)
            if chunk:
                yield chunk
    except ClientDisconnect:
        digest.interrupted = BadRequest(f"the upload broke off after {digest.size} bytes")
        raise digest.interrupted from None


def check_page_size(limits: Iterable[str], maximum: int) -> None:
    """Refuse with 413 ``page-too-large`` when a ``limit`` query parameter asks for more than ``maximum`` records."""
    for value in limits:
        try:
            asked = int(value)
        except ValueError:
            continue  # not a number: the service answers that itself (422)
        if asked > maximum:
            raise PageTooLarge(f"limit={asked} asks for more than {maximum} records per page", limit=maximum)
