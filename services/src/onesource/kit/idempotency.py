"""``Idempotency-Key`` for creating POSTs: a repeat with the same key by the same client answers the first result.

The first answer is stored in the same transaction as the change (in the service's ``idempotency_record`` table:
principal, key, fingerprint, status, body), so a key is remembered exactly when its change happened. A
transaction-level advisory lock on (client, key) makes a concurrent repeat wait for the first request and then
replay it. Reusing a key for a different request is 422 (draft-ietf-httpapi-idempotency-key-header).

A service declares its record class on its own ``Base`` with the columns of :class:`IdempotencyRecordColumns`,
creates the table with :func:`onesource.kit.migrations.create_idempotency_record_table`, and declares a dependency:
``IdempotencyDep = Annotated[Idempotency, Depends(idempotency_for(IdempotencyRecord))]``. A store that must not
keep answers in clear (the gateway's, which may hold a client secret) subclasses :class:`Idempotency` and
overrides how the body is kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Integer, PrimaryKeyConstraint, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from onesource.kit.auth import CurrentPrincipal
from onesource.kit.errors import ServiceError

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Repeat a creating request safely: a repeat with the same key answers the first result.",
    ),
]
"""The ``Idempotency-Key`` request header."""


class IdempotencyRecordColumns:
    """The columns of a service's ``idempotency_record`` table: a mixin for its record class on its own ``Base``."""

    __tablename__ = "idempotency_record"
    __table_args__ = (PrimaryKeyConstraint("principal", "key", name="pk_idempotency_record"),)

    principal: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class IdempotencyKeyReused(ServiceError):
    """The ``Idempotency-Key`` was already used for a different request (422)."""

    status = 422
    type = "idempotency-key-reused"
    title = "Idempotency key reused"


async def request_fingerprint(request: Request) -> str:
    """SHA-256 over method, path and body; the same JSON with other spacing or key order is the same request."""
    body = await request.body()
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + canonical).hexdigest()


class Idempotency:
    """The ``Idempotency-Key`` of one request, able to replay or remember its answer."""

    def __init__(
        self, key: str | None, principal: str, fingerprint: str, record_type: type[Any], *, etag_from_version: bool
    ) -> None:
        self.key = key
        self.principal = principal
        self.fingerprint = fingerprint
        self._record_type = record_type
        self._etag_from_version = etag_from_version

    @property
    def context(self) -> str:
        """What identifies the key: the client and the key it sent."""
        return f"{self.principal}\n{self.key}"

    async def first_record(self, session: AsyncSession) -> Any | None:
        """The stored record of this key (waiting for a concurrent first request); 422 when it was another request."""
        if self.key is None:
            return None
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(self.context, 0))))
        record = await session.get(self._record_type, (self.principal, self.key))
        if record is not None and record.fingerprint != self.fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for a different request; use a new key for a new request"
            )
        return record

    async def replay(self, session: AsyncSession, headers: dict[str, str] | None = None) -> Response | None:
        """The stored first answer for this key, or ``None`` when this is the first request with it."""
        record = await self.first_record(session)
        if record is None:
            return None
        body: Any = record.body
        replay_headers = {"Idempotency-Replayed": "true", **(headers or {})}
        version = body.get("version") if isinstance(body, dict) else None
        if self._etag_from_version and isinstance(version, int):
            replay_headers["ETag"] = f'"{version}"'
        return JSONResponse(body, status_code=record.status, headers=replay_headers)

    async def remember(self, session: AsyncSession, status: int, answer: BaseModel) -> None:
        """Store the first answer for this key (no-op without a key)."""
        if self.key is None:
            return
        session.add(self._record(status, answer))
        await session.flush()

    def _record(self, status: int, answer: BaseModel) -> Any:
        return self._record_type(
            principal=self.principal,
            key=self.key,
            fingerprint=self.fingerprint,
            status=status,
            body=answer.model_dump(mode="json"),
        )


def idempotency_for(
    record_type: type[Any], *, etag_from_version: bool = False
) -> Callable[..., Awaitable[Idempotency]]:
    """The dependency giving a request its :class:`Idempotency`, stored in ``record_type``.

    ``etag_from_version``: a replayed answer carries the ``ETag`` of the ``version`` in its body, as the first did.
    """

    async def dependency(request: Request, principal: CurrentPrincipal, key: IdempotencyKey = None) -> Idempotency:
        fingerprint = await request_fingerprint(request)
        return Idempotency(key, principal.client_id, fingerprint, record_type, etag_from_version=etag_from_version)

    return dependency
