"""Every SQL statement of the sharing statistics: one aggregate per figure, grouped by department."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from onesource.exchange.models import AccessGrant, Delivery, ShareRequest, Subscription


async def requests_by_status(session: AsyncSession, party: InstrumentedAttribute[str]) -> Sequence[Any]:
    """(department, status, count) of share requests."""
    statement = select(party, ShareRequest.status, func.count()).group_by(party, ShareRequest.status)
    return (await session.execute(statement)).all()


async def decision_times(session: AsyncSession, party: InstrumentedAttribute[str]) -> Sequence[Any]:
    """(department, decided, median hours, mean hours, overdue) of share requests."""
    hours = func.extract("epoch", ShareRequest.decided_at - ShareRequest.created_at) / 3600.0
    statement = select(
        party,
        func.count(ShareRequest.decided_at),
        func.percentile_cont(0.5).within_group(hours),
        func.avg(hours),
        func.count().filter(ShareRequest.overdue),
    ).group_by(party)
    return (await session.execute(statement)).all()


async def active_grants(session: AsyncSession, party: InstrumentedAttribute[str]) -> Sequence[Any]:
    """(department, count) of active grants."""
    statement = select(party, func.count()).where(AccessGrant.status == "active").group_by(party)
    return (await session.execute(statement)).all()


async def deliveries(session: AsyncSession, party: InstrumentedAttribute[str]) -> Sequence[Any]:
    """(department, count) of delivered events."""
    statement = (
        select(party, func.count())
        .select_from(Delivery)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .group_by(party)
    )
    return (await session.execute(statement)).all()
