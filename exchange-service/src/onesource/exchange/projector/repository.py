"""Every SQL statement of the projector."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.exchange.models import AccessGrant, CatalogRegistry, CatalogResource, Delivery, Subscription
from onesource.exchange.subscriptions.feed import DELIVERY_CHANNEL
from onesource.kit.events import registry_of_topic


async def subscriptions_on(session: AsyncSession, topic: str) -> Sequence[Subscription]:
    """Active subscriptions to the owner's resources published on ``topic``, locked in id order.

    Only the resources of the department owning the registry ``topic`` belongs to: a resource another department
    described over a registry's topic carries nothing of it (issue 20), and a topic whose registry has no known
    owner is delivered to nobody (fail closed). The lock serialises deliveries per subscription, so feed positions
    are assigned and committed in order.
    """
    statement = (
        select(Subscription)
        .join(CatalogResource, CatalogResource.id == Subscription.resource)
        .join(
            CatalogRegistry,
            and_(
                CatalogRegistry.service == registry_of_topic(topic), CatalogRegistry.owner == CatalogResource.provider
            ),
        )
        .where(CatalogResource.topic == topic, Subscription.status == "active")
        .order_by(Subscription.id)
        .with_for_update(of=Subscription)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).all()


async def subscription_horizon(session: AsyncSession) -> datetime:
    """The earliest creation of any subscription there is, or now (the transaction's time) when there is none.

    Any subscription created later is created after now, so no event made before the horizon reaches one.
    """
    now, earliest = (await session.execute(select(func.now(), func.min(Subscription.created_at)))).one()
    horizon: datetime = now if earliest is None else min(now, earliest)
    return horizon


async def grants_in_force(session: AsyncSession, grant_ids: list[str]) -> dict[str, AccessGrant]:
    """The grants among ``grant_ids``, share-locked: a concurrent revocation commits before or after, never during."""
    if not grant_ids:
        return {}
    statement = (
        select(AccessGrant)
        .where(AccessGrant.id.in_(sorted(set(grant_ids))))
        .order_by(AccessGrant.id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    return {grant.id: grant for grant in (await session.scalars(statement)).all()}


async def delivered(session: AsyncSession, subscription_id: str, event_id: str) -> bool:
    """Whether this delivery is already logged (the same source event seen through another consumer group)."""
    statement = select(exists().where(Delivery.subscription_id == subscription_id, Delivery.event_id == event_id))
    return bool(await session.scalar(statement))


async def notify(session: AsyncSession, subscription_id: str) -> None:
    """Wake the subscription's feed readers when this transaction commits."""
    await session.execute(select(func.pg_notify(DELIVERY_CHANNEL, subscription_id)))
