"""``Idempotency-Key`` for creating POSTs: a repeat with the same key by the same client answers the first result.

The first answer is stored in the same transaction as the change, so a key is remembered exactly when its change
happened; a transaction-level advisory lock on (client, key) makes a concurrent repeat wait for the first request
and then replay it. Reusing a key for a different request is 422 (draft-ietf-httpapi-idempotency-key-header).
The kit has no idempotency store yet, so the catalog keeps this small one (the gateway has its own, encrypted).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.models import IdempotencyRecord
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.errors import ServiceError


class IdempotencyKeyReused(ServiceError):
    """The ``Idempotency-Key`` was already used for a different request (422)."""

    status = 422
    type = "idempotency-key-reused"
    title = "Idempotency key reused"


class Idempotency:
    """The ``Idempotency-Key`` of one request, able to replay or remember its answer."""

    def __init__(self, key: str | None, principal: str, fingerprint: str) -> None:
        self.key = key
        self.principal = principal
        self.fingerprint = fingerprint

    async def replay(self, session: AsyncSession, headers: dict[str, str] | None = None) -> JSONResponse | None:
        """The stored first answer for this key, or ``None`` when this is the first request with it."""
        if self.key is None:
            return None
        await session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(f"{self.principal}\n{self.key}", 0)))
        )
        record = await session.get(IdempotencyRecord, (self.principal, self.key))
        if record is None:
            return None
        if record.fingerprint != self.fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for a different request; use a new key for a new request"
            )
        body: dict[str, Any] = record.body
        version = body.get("version")
        replay_headers = {"Idempotency-Replayed": "true", **(headers or {})}
        if isinstance(version, int):
            replay_headers["ETag"] = f'"{version}"'
        return JSONResponse(body, status_code=record.status, headers=replay_headers)

    async def remember(self, session: AsyncSession, status: int, answer: BaseModel) -> None:
        """Store the first answer for this key (no-op without a key)."""
        if self.key is None:
            return
        session.add(
            IdempotencyRecord(
                principal=self.principal,
                key=self.key,
                fingerprint=self.fingerprint,
                status=status,
                body=answer.model_dump(mode="json"),
            )
        )
        await session.flush()


async def _idempotency(
    request: Request,
    principal: CurrentPrincipal,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="Repeat a creating request safely: a repeat with the same key answers the first result.",
        ),
    ] = None,
) -> Idempotency:
    body = await request.body()
    try:  # the same JSON sent with other spacing or key order is the same request
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    fingerprint = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + canonical).hexdigest()
    return Idempotency(key, principal.client_id, fingerprint)


IdempotencyDep = Annotated[Idempotency, Depends(_idempotency)]
"""The request's ``Idempotency-Key`` handling."""
