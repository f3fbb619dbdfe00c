"""Every SQL statement of share requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.exchange.models import ShareRequest, ShareRequestTransition


async def get(session: AsyncSession, request_id: str, *, for_update: bool = False) -> ShareRequest | None:
    """The share request (locked for the transaction when ``for_update``, so steps on it never interleave)."""
    statement = select(ShareRequest).where(ShareRequest.id == request_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def history(session: AsyncSession, request_id: str) -> Sequence[ShareRequestTransition]:
    """The request's transitions, oldest first."""
    statement = (
        select(ShareRequestTransition)
        .where(ShareRequestTransition.share_request_id == request_id)
        .order_by(ShareRequestTransition.id)
    )
    return (await session.scalars(statement)).all()


def listed(
    *, visible: ColumnElement[bool] | None, status: str | None, overdue: bool | None, resource: str | None
) -> Select[tuple[ShareRequest]]:
    """The share requests the filters select (the caller orders and pages them)."""
    statement = select(ShareRequest)
    if visible is not None:
        statement = statement.where(visible)
    if status is not None:
        statement = statement.where(ShareRequest.status == status)
    if overdue is not None:
        statement = statement.where(ShareRequest.overdue.is_(overdue))
    if resource is not None:
        statement = statement.where(ShareRequest.resource == resource)
    return statement


async def past_due(session: AsyncSession, now: datetime) -> Sequence[ShareRequest]:
    """Unanswered requests past their deadline not yet escalated, locked (skipping ones another sweep holds)."""
    statement = (
        select(ShareRequest)
        .where(
            ShareRequest.status == "pending_provider",
            ShareRequest.due_at < now,
            ShareRequest.overdue.is_(False),
        )
        .order_by(ShareRequest.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).all()
