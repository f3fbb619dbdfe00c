"""Subscription endpoints: ``/v1/subscriptions`` and the HTTP event feed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from onesource.exchange.dependencies import ConsumerDep, SettingsDep
from onesource.exchange.subscriptions import service
from onesource.exchange.subscriptions.schemas import EventFeed, Subscription, SubscriptionCreate
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.idempotency import idempotent
from onesource.kit.kafka import ensure_topics
from onesource.kit.pagination import MAX_LIMIT, Cursor, Limit, Page

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Subscription,
    responses=problem_responses(401, 403, 409, 422),
)
@idempotent()
async def create_subscription(
    body: SubscriptionCreate,
    session: SessionDep,
    principal: ConsumerDep,
    settings: SettingsDep,
) -> Subscription:
    """Subscribe to a resource's change events under an active grant of the caller's department."""
    subscription = await service.subscribe(session, principal, body, datetime.now(UTC))
    if subscription.topic is not None:
        try:  # so integrators can attach before the first event; the relay creates it otherwise
            await ensure_topics(settings.kafka, [subscription.topic], client_id="exchange")
        except Exception as error:  # the subscription stands; its first delivery provisions the topic
            logger.warning("could not provision %s yet: %r", subscription.topic, error)
    answer = Subscription.model_validate(subscription)
    return answer


@router.get("", responses=problem_responses(401, 422))
async def list_subscriptions(
    session: SessionDep,
    principal: CurrentPrincipal,
    resource: Annotated[str | None, Query(max_length=200, description="Only subscriptions to this resource.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[Subscription]:
    """The caller's department's subscriptions (all, for coordinators and admins)."""
    found = await service.page(session, principal, resource=resource, limit=limit, cursor=cursor)
    return Page[Subscription].model_validate(found, from_attributes=True)


@router.get("/{subscription_id}", responses=problem_responses(401, 403, 404))
async def get_subscription(subscription_id: str, session: SessionDep, principal: CurrentPrincipal) -> Subscription:
    """One subscription of the caller's department."""
    return Subscription.model_validate(await service.get(session, principal, subscription_id))


@router.delete(
    "/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401, 403, 404, 409)
)
async def cancel_subscription(subscription_id: str, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Cancel a subscription of the caller's department."""
    await service.cancel(session, principal, subscription_id, datetime.now(UTC))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{subscription_id}/events", responses=problem_responses(401, 403, 404, 422))
async def read_subscription_events(
    subscription_id: str,
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    after: Annotated[
        str | None, Query(max_length=512, description="The `next_cursor` of the previous answer; from the start.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"At most this many events (≤ {MAX_LIMIT}).")] = 100,
    wait: Annotated[
        float, Query(ge=0, description="Long poll: wait up to this many seconds for an event (capped).")
    ] = 0,
) -> EventFeed:
    """The subscription's delivered events after a cursor, masked to its grant (only the subscriber reads it)."""
    return await service.read_feed(
        request.app.state.sessionmaker,
        getattr(request.app.state, "delivery_notifier", None),
        principal,
        subscription_id,
        after=after,
        limit=limit,
        wait=min(wait, settings.feed_max_wait_seconds),
        poll_seconds=settings.feed_poll_seconds,
    )
