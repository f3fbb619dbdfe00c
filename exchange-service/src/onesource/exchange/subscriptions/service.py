"""Business rules of subscriptions: only under an active grant, only the subscriber reads its feed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onesource.exchange.dependencies import sees_everything
from onesource.exchange.grants import repository as grants
from onesource.exchange.models import Subscription
from onesource.exchange.subscriptions import repository
from onesource.exchange.subscriptions.errors import (
    DuplicateSubscription,
    NoActiveGrant,
    SubscriptionCancelled,
    SubscriptionNotFound,
)
from onesource.exchange.subscriptions.feed import DeliveryNotifier
from onesource.exchange.subscriptions.schemas import EventFeed, SubscriptionCreate
from onesource.kit.auth import Principal
from onesource.kit.errors import Forbidden
from onesource.kit.pagination import InvalidCursor, Slice, decode_cursor, encode_cursor, paginate


def delivery_topic(department: str, resource: str) -> str:
    """The department's Kafka topic for a resource's deliveries."""
    return f"onesource.delivery.{department}.{resource}"


async def subscribe(
    session: AsyncSession, principal: Principal, body: SubscriptionCreate, now: datetime
) -> Subscription:
    """Subscribe the caller's department to a resource under one of its active grants (403 without one)."""
    active = await grants.active_for(session, principal.department, body.resource, now)
    if body.grant_id is not None:
        active = [grant for grant in active if grant.id == body.grant_id]
    if not active:
        raise NoActiveGrant(
            f"department {principal.department!r} holds no active grant on {body.resource!r}"
            + (f" with id {body.grant_id!r}" if body.grant_id else ""),
            resource=body.resource,
        )
    grant = active[0]
    topic = delivery_topic(principal.department, body.resource) if body.delivery == "kafka" else None
    if body.delivery == "kafka" and await repository.active_kafka(session, principal.department, body.resource):
        raise DuplicateSubscription(
            f"department {principal.department!r} already has a Kafka subscription to {body.resource!r}"
        )
    subscription = Subscription(
        department=principal.department,
        resource=body.resource,
        provider=grant.provider,
        grant_id=grant.id,
        delivery=body.delivery,
        topic=topic,
        status="active",
        last_seq=0,
        created_by=principal.client_id,
        created_at=now,
    )
    session.add(subscription)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a concurrent subscribe won the partial unique index
        raise DuplicateSubscription(
            f"department {principal.department!r} already has a Kafka subscription to {body.resource!r}"
        ) from None
    return subscription


def _own(principal: Principal, subscription: Subscription, *, action: str) -> None:
    if subscription.department != principal.department:
        raise Forbidden(
            f"department {principal.department!r} may not {action} a subscription of {subscription.department!r}"
        )


async def get(session: AsyncSession, principal: Principal, subscription_id: str) -> Subscription:
    """The subscription, if the caller's department holds it (coordinators and admins see all)."""
    subscription = await repository.get(session, subscription_id)
    if subscription is None:
        raise SubscriptionNotFound(f"no subscription has id {subscription_id!r}")
    if not sees_everything(principal):
        _own(principal, subscription, action="see")
    return subscription


async def page(
    session: AsyncSession, principal: Principal, *, resource: str | None, limit: int, cursor: str | None
) -> Slice[Subscription]:
    """The caller's department's subscriptions (every department's for coordinators and admins)."""
    statement = repository.listed(
        department=None if sees_everything(principal) else principal.department,
        resource=resource,
    )
    return await paginate(session, statement, order=[Subscription.id], limit=limit, cursor=cursor)


async def cancel(session: AsyncSession, principal: Principal, subscription_id: str, now: datetime) -> Subscription:
    """Cancel a subscription of the caller's department; nothing is delivered to it any more."""
    subscription = await repository.get(session, subscription_id, for_update=True)
    if subscription is None:
        raise SubscriptionNotFound(f"no subscription has id {subscription_id!r}")
    _own(principal, subscription, action="cancel")
    if subscription.status != "active":
        raise SubscriptionCancelled(f"subscription {subscription_id!r} is already cancelled")
    subscription.status = "cancelled"
    subscription.cancelled_at = now
    await session.flush()
    return subscription


def _position(cursor: str | None) -> int:
    raw = decode_cursor(cursor)
    if raw is None:
        return 0
    try:
        position = int(raw)
    except ValueError:
        position = -1
    if position < 0:
        raise InvalidCursor(
            "the cursor is not valid; pass the next_cursor of a previous answer",
            invalid_params=[{"name": "query.after", "reason": "not a cursor issued by this API"}],
        )
    return position


async def read_feed(
    sessionmaker: async_sessionmaker[AsyncSession],
    notifier: DeliveryNotifier | None,
    principal: Principal,
    subscription_id: str,
    *,
    after: str | None,
    limit: int,
    wait: float,
    poll_seconds: float,
) -> EventFeed:
    """Delivered events after ``after``; with ``wait``, hold the answer until one arrives or the wait ends.

    Each look is its own short transaction, so a waiting reader holds no database connection. A delivery's
    commit wakes the reader at once through LISTEN/NOTIFY; ``poll_seconds`` is the fallback re-check.
    """
    position = _position(after)
    async with sessionmaker() as session:
        subscription = await repository.get(session, subscription_id)
    if subscription is None:
        raise SubscriptionNotFound(f"no subscription has id {subscription_id!r}")
    # Only the subscriber: the feed carries its grant's data, which no other department may read.
    _own(principal, subscription, action="read the feed of")
    deadline = time.monotonic() + wait
    watching = notifier.watch(subscription_id) if notifier is not None else contextlib.nullcontext(asyncio.Event())
    with watching as woken:
        while True:
            async with sessionmaker() as session:
                rows = await repository.deliveries(session, subscription_id, after=position, limit=limit)
            remaining = deadline - time.monotonic()
            if rows or remaining <= 0:
                break
            woken.clear()
            try:
                await asyncio.wait_for(woken.wait(), min(poll_seconds, remaining))
            except TimeoutError:
                pass
    last = rows[-1].seq if rows else position
    return EventFeed(items=[row.event for row in rows], next_cursor=encode_cursor(str(last)))
