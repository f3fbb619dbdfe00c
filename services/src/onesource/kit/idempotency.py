"""``Idempotency-Key`` for creating POSTs: a repeat with the same key by the same client answers the first result.

The first answer is stored in the same transaction as the change (in the service's ``idempotency_record`` table:
principal, key, fingerprint, status, body), so a key is remembered exactly when its change happened. A
transaction-level advisory lock on (client, key) makes a concurrent repeat wait for the first request and then
replay it. Reusing a key for a different request is 422 (draft-ietf-httpapi-idempotency-key-header).

A service declares its record class on its own ``Base`` with the columns of :class:`IdempotencyRecordColumns`,
creates the table with :func:`onesource.kit.migrations.create_idempotency_record_table`, names the class in its
``ServiceSpec.idempotency_record``, and decorates each creating endpoint with :func:`idempotent`. A store that must
not keep answers in clear (the gateway's, which may hold a client secret) gives ``ServiceSpec.idempotency`` a
factory of an :class:`Idempotency` subclass that overrides how the body is kept.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Integer, PrimaryKeyConstraint, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from onesource.kit.auth import CurrentPrincipal
from onesource.kit.concurrency import etag
from onesource.kit.db import SessionDep
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


@dataclass(frozen=True)
class StoredAnswer:
    """The first answer given for a key."""

    status: int
    body: Any


class Idempotency:
    """The ``Idempotency-Key`` of one request, able to replay or remember its answer."""

    def __init__(
        self,
        key: str | None,
        principal: str,
        fingerprint: str,
        record_type: type[Any],
    ) -> None:
        self.key = key
        self.principal = principal
        self.fingerprint = fingerprint
        self._record_type = record_type

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

    async def first_answer(self, session: AsyncSession) -> StoredAnswer | None:
        """The answer stored for this key, or ``None`` when this is the first request with it."""
        record = await self.first_record(session)
        return None if record is None else StoredAnswer(record.status, record.body)

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


IdempotencyFactory = Callable[[Request, str | None, str, str], Idempotency]
"""Makes a request's :class:`Idempotency` from the request, its key, the client and the request's fingerprint."""


def record_store(record_type: type[Any]) -> IdempotencyFactory:
    """The kit's store on ``record_type`` (a class with :class:`IdempotencyRecordColumns`)."""

    def factory(request: Request, key: str | None, principal: str, fingerprint: str) -> Idempotency:
        return Idempotency(key, principal, fingerprint, record_type)

    return factory


async def _request_idempotency(
    request: Request, principal: CurrentPrincipal, key: IdempotencyKey = None
) -> Idempotency:
    factory: IdempotencyFactory | None = getattr(request.app.state, "idempotency", None)
    if factory is None:
        raise RuntimeError("this service keeps no Idempotency-Key records (ServiceSpec.idempotency_record)")
    # Only a key's record keeps the fingerprint: without one, the body is not hashed (a bulk load's is megabytes).
    fingerprint = await request_fingerprint(request) if key is not None else ""
    return factory(request, key, principal.client_id, fingerprint)


IdempotencyDep = Annotated[Idempotency, Depends(_request_idempotency)]
"""The request's ``Idempotency-Key`` handling, on the service's store."""

Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Any]])


def idempotent(
    *,
    location: Callable[[Any], str] | None = None,
    etag_version: bool = False,
    version_of: Callable[[Any], Any] | None = None,
    status_code: int = 201,
) -> Callable[[Endpoint], Endpoint]:
    """Make a creating endpoint honour ``Idempotency-Key``: a repeat answers the first result, headers included.

    The endpoint is written as if there were no key; the decorator replays a stored answer before it runs and stores
    its answer (``status_code``, the body) in its transaction. ``location`` gives the ``Location`` of an answer's body
    and ``etag_version`` its ``ETag`` from the body's ``version`` (``version_of`` from elsewhere in the body, as a
    GeoJSON Feature's ``properties``): both are set alike on the first answer and on every replay.
    """

    def headers_of(body: Any) -> dict[str, str]:
        headers = {}
        if location is not None:
            headers["Location"] = location(body)
        if version_of is not None:
            version = version_of(body)
        else:
            version = body.get("version") if etag_version and isinstance(body, dict) else None
        if isinstance(version, int):
            headers["ETag"] = etag(version)
        return headers

    def decorate(endpoint: Endpoint) -> Endpoint:
        hints = typing.get_type_hints(endpoint, include_extras=True)
        signature = inspect.signature(endpoint)
        parameters = [
            parameter.replace(annotation=hints.get(name, parameter.annotation))
            for name, parameter in signature.parameters.items()
        ]
        keyword = inspect.Parameter.KEYWORD_ONLY
        parameters += [
            inspect.Parameter("idempotency_", keyword, annotation=IdempotencyDep),
            inspect.Parameter("idempotency_session_", keyword, annotation=SessionDep),
            inspect.Parameter("idempotency_response_", keyword, annotation=Response),
        ]

        @functools.wraps(endpoint)
        async def wrapper(
            *args: Any,
            idempotency_: Idempotency,
            idempotency_session_: AsyncSession,
            idempotency_response_: Response,
            **kwargs: Any,
        ) -> Any:
            stored = await idempotency_.first_answer(idempotency_session_)
            if stored is not None:
                headers = {"Idempotency-Replayed": "true", **headers_of(stored.body)}
                return JSONResponse(stored.body, status_code=stored.status, headers=headers)
            answer = await endpoint(*args, **kwargs)
            body = answer.model_dump(mode="json") if isinstance(answer, BaseModel) else None
            idempotency_response_.headers.update(headers_of(body))
            if isinstance(answer, BaseModel):
                await idempotency_.remember(idempotency_session_, status_code, answer)
            return answer

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=parameters, return_annotation=hints.get("return", signature.return_annotation)
        )
        return typing.cast(Endpoint, wrapper)

    return decorate
