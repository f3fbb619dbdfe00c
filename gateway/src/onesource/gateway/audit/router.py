"""Audit endpoints: ``/api/audit/v1`` — chain verification, checkpoints, record access history, call statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from onesource.gateway.audit import repository, service
from onesource.gateway.audit.errors import InvalidPeriod
from onesource.gateway.audit.schemas import CallStatistics, ChainVerification, Checkpoint, PartyCalls, RecordAccess
from onesource.gateway.dependencies import AdminDep, SettingsDep
from onesource.kit.auth import CurrentPrincipal, Principal, require_roles
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/api/audit/v1", tags=["audit"])

ResourceId = Annotated[str, Path(min_length=1, max_length=200, description="Catalog resource id.")]
RecordKey = Annotated[str, Path(min_length=1, max_length=512, description="The record's key (may contain `/`).")]


@router.get("/verify", responses=problem_responses(401, 403))
async def verify_audit_chain(session: SessionDep, settings: SettingsDep, admin: AdminDep) -> ChainVerification:
    """Recompute the whole audit chain and check it against its signed checkpoints and head (admin)."""
    return ChainVerification.model_validate(await service.verify(session, settings), from_attributes=True)


@router.get("/checkpoints", responses=problem_responses(401, 403, 422))
async def list_audit_checkpoints(
    session: SessionDep, admin: AdminDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[Checkpoint]:
    """List the signed checkpoints of the chain newest first, to keep and check against the JWKS (admin)."""
    found = await service.checkpoints(session, limit=limit, cursor=cursor)
    items = [
        Checkpoint(seq=row.seq, hash=row.hash, time=row.signed_at, kid=row.kid, signature=row.signature)
        for row in found.items
    ]
    return Page[Checkpoint](items=items, next_cursor=found.next_cursor)


@router.get("/records/{resource}/{key:path}", responses=problem_responses(401, 403, 404, 422))
async def list_record_accesses(
    resource: ResourceId,
    key: RecordKey,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[RecordAccess]:
    """Who accessed one record of a resource, when and why, newest first (the provider's stewards, admins)."""
    found = await service.access_history(session, principal, resource, key, limit=limit, cursor=cursor)
    return Page[RecordAccess].model_validate(found, from_attributes=True)


#: The period the statistics cover when the caller names none.
DEFAULT_PERIOD = timedelta(days=30)


@router.get("/statistics", responses=problem_responses(401, 403, 422))
async def call_statistics(
    session: SessionDep,
    coordinator: Annotated[Principal, Depends(require_roles("coordinator", "admin"))],
    since: Annotated[datetime | None, Query(description="Start (inclusive); default 30 days before `until`.")] = None,
    until: Annotated[datetime | None, Query(description="End (exclusive); default now.")] = None,
) -> CallStatistics:
    """Data calls per consumer and per provider department in a period, from the audit log (coordinators, admins)."""
    end = until or datetime.now(UTC)
    start = since or end - DEFAULT_PERIOD
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidPeriod("since and until need a time zone (an offset or Z)")
    if start >= end:
        raise InvalidPeriod("since must be before until")
    return CallStatistics(
        since=start,
        until=end,
        consumers=[PartyCalls.model_validate(row) for row in await repository.calls_by_consumer(session, start, end)],
        providers=[PartyCalls.model_validate(row) for row in await repository.calls_by_provider(session, start, end)],
    )
