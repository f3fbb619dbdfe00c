"""Sharing statistics per provider and per consumer, for the coordinators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from onesource.exchange.models import AccessGrant, ShareRequest, Subscription
from onesource.exchange.statistics import repository
from onesource.exchange.statistics.schemas import PartyStatistics, Statistics


async def _side(
    session: AsyncSession,
    request_party: InstrumentedAttribute[str],
    grant_party: InstrumentedAttribute[str],
    subscription_party: InstrumentedAttribute[str],
) -> list[PartyStatistics]:
    parties: dict[str, PartyStatistics] = {}

    def party(department: str) -> PartyStatistics:
        return parties.setdefault(department, PartyStatistics(department=department))

    for department, status, count in await repository.requests_by_status(session, request_party):
        figures = party(department)
        figures.requests_by_status[status] = count
        figures.requests += count
    for department, decided, median, mean, overdue in await repository.decision_times(session, request_party):
        figures = party(department)
        figures.decided = decided
        figures.median_decision_hours = round(float(median), 3) if median is not None else None
        figures.mean_decision_hours = round(float(mean), 3) if mean is not None else None
        figures.overdue = overdue
    for department, count in await repository.active_grants(session, grant_party):
        party(department).active_grants = count
    for department, count in await repository.deliveries(session, subscription_party):
        party(department).events_delivered = count
    return [parties[department] for department in sorted(parties)]


async def compute(session: AsyncSession, now: datetime) -> Statistics:
    """Every figure, per provider and per consumer."""
    return Statistics(
        providers=await _side(session, ShareRequest.provider, AccessGrant.provider, Subscription.provider),
        consumers=await _side(session, ShareRequest.consumer, AccessGrant.department, Subscription.department),
        generated_at=now,
    )
