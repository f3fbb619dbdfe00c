"""The projector's rules: each source event goes to every subscription under a grant in force.

Each gets the event masked to its grant — only granted fields, only records in scope — in the delivery log
and, for Kafka subscriptions, on its delivery topic through the outbox; all in the transaction that records
the event as handled.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.exchange.models import AccessGrant, Delivery, Subscription
from onesource.exchange.projector import repository
from onesource.kit.events import CloudEvent
from onesource.kit.outbox import OutboxEvent, shard_of
from onesource.kit.telemetry import current_trace_context
from onesource.registry.shapes.scope import in_scope

DELIVERED = Counter("onesource_exchange_deliveries_total", "Events delivered to subscriptions", ["delivery"])

SOURCE = "/onesource/exchange"
#: Namespace of delivered event ids: uuid5(namespace, "<subscription>/<source event id>") is stable across retries.
DELIVERY_NAMESPACE = uuid.UUID("5d1f3a5e-0b7c-4c8e-9a51-6f0e2c9b7d11")


def delivery_id(subscription_id: str, source_event_id: str) -> str:
    """The stable id of one source event delivered to one subscription."""
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{subscription_id}/{source_event_id}"))


def mask(data: Mapping[str, Any], fields: Collection[str]) -> dict[str, Any] | None:
    """The event data with only ``fields`` kept; ``None`` when nothing granted is left to deliver.

    ``record`` keeps the granted fields; ``changes`` (update events) too, and an update that changed no granted
    field is not delivered. Anything else in ``data`` is dropped: what is not understood is not delivered.
    """
    record = data.get("record")
    if not isinstance(record, dict):
        return None
    granted = set(fields)
    masked: dict[str, Any] = {"record": {name: value for name, value in record.items() if name in granted}}
    if "changes" in data:
        changes = data["changes"]
        if not isinstance(changes, dict):
            return None
        kept = {name: value for name, value in changes.items() if name in granted}
        if not kept:
            return None
        masked["changes"] = kept
    return masked


def aware(moment: datetime) -> datetime:
    """``moment`` with a time zone (UTC if it had none)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _in_force(grant: AccessGrant | None, now: datetime) -> bool:
    return grant is not None and grant.status == "active" and grant.valid_from <= now < grant.valid_until


def delivered_event(
    event: CloudEvent, subscription: Subscription, grant: AccessGrant, data: dict[str, Any]
) -> CloudEvent:
    """The CloudEvent a subscriber gets: the source's type, subject and time, masked data, naming its grant."""
    return CloudEvent.model_validate(
        {
            "id": delivery_id(subscription.id, event.id),
            "source": SOURCE,
            "type": event.type,
            "subject": event.subject,
            "time": event.time,
            "datacontenttype": "application/json",
            "dataschema": event.dataschema,
            "data": data,
            # CloudEvents extension attributes (lower-case alphanumerics, CloudEvents 1.0 §3.1.1)
            "onesourcegrant": grant.id,
            "onesourcesubscription": subscription.id,
            "onesourceresource": subscription.resource,
        }
    )


async def project(session: AsyncSession, topic: str, event: CloudEvent, now: datetime) -> int:
    """Deliver one source event to every subscription entitled to it; returns how many got it."""
    if not isinstance(event.data.get("record"), dict):
        return 0
    subscriptions = await repository.subscriptions_on(session, topic)
    if not subscriptions:
        return 0
    grants = await repository.grants_in_force(session, [subscription.grant_id for subscription in subscriptions])
    count = 0
    for subscription in subscriptions:
        grant = grants.get(subscription.grant_id)
        if not _in_force(grant, now) or grant is None:
            continue
        # A subscription receives the changes made from its creation on, not the topic's history.
        if aware(event.time) < subscription.created_at:
            continue
        # Row scope on the unmasked record: a field may scope rows without being delivered.
        if not in_scope(event.data["record"], grant.row_scope):
            continue
        data = mask(event.data, grant.fields)
        if data is None:
            continue
        event_id = delivery_id(subscription.id, event.id)
        if await repository.delivered(session, subscription.id, event_id):
            continue
        envelope = delivered_event(event, subscription, grant, data)
        payload = envelope.model_dump(mode="json", exclude_none=True)
        subscription.last_seq += 1
        session.add(
            Delivery(
                subscription_id=subscription.id,
                seq=subscription.last_seq,
                event_id=event_id,
                source_event_id=event.id,
                grant_id=grant.id,
                record_key=event.subject,
                event=payload,
            )
        )
        if subscription.delivery == "kafka" and subscription.topic is not None:
            # DomainEvent fixes its topic per class, and delivery topics are per subscription, so the row is
            # written the way kit.outbox.add writes it: same table, same transaction, same relay.
            session.add(
                OutboxEvent(
                    event_id=event_id,
                    topic=subscription.topic,
                    key=event.subject,
                    shard=shard_of(event.subject),
                    payload=payload,
                    trace_context=current_trace_context(),
                )
            )
        await repository.notify(session, subscription.id)
        DELIVERED.labels(subscription.delivery).inc()
        count += 1
    await session.flush()
    return count
