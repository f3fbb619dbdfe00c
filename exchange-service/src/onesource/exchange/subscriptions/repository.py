"""Every SQL statement of subscriptions and their delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.exchange.models import Delivery, Subscription


async def get(session: AsyncSession, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
    """The subscription (locked when ``for_update``)."""
    statement = select(Subscription).where(Subscription.id == subscription_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def active_kafka(session: AsyncSession, department: str, resource: str) -> Subscription | None:
    """The department's active Kafka subscription to ``resource``."""
    statement = select(Subscription).where(
        Subscription.department == department,
        Subscription.resource == resource,
        Subscription.status == "active",
        Subscription.delivery == "kafka",
    )
    return (await session.scalars(statement)).first()


def listed(*, department: str | None, resource: str | None) -> Select[tuple[Subscription]]:
    """The subscriptions the filters select (the caller orders and pages them)."""
    statement = select(Subscription)
    if department is not None:
        statement = statement.where(Subscription.department == department)
    if resource is not None:
        statement = statement.where(Subscription.resource == resource)
    return statement


async def deliveries(session: AsyncSession, subscription_id: str, *, after: int, limit: int) -> Sequence[Any]:
    """Delivered events of a subscription after position ``after``, in feed order."""
    statement = (
        select(Delivery.seq, Delivery.event)
        .where(Delivery.subscription_id == subscription_id, Delivery.seq > after)
        .order_by(Delivery.seq)
        .limit(limit)
    )
    return (await session.execute(statement)).all()
