"""Tables of exchange: its own database, its own metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import uuid_utils
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onesource.kit.db import TYPE_ANNOTATION_MAP, new_metadata
from onesource.kit.idempotency import IdempotencyRecordColumns


def new_id() -> str:
    """A unique, time-sortable identifier (UUIDv7, RFC 9562) for a request, grant, subscription or report."""
    return str(uuid_utils.uuid7())


class Base(DeclarativeBase):
    """Declarative base of this service's tables."""

    metadata = new_metadata()
    type_annotation_map: dict[Any, Any] = TYPE_ANNOTATION_MAP


class CatalogResource(Base):
    """Read model of the catalog: the latest version of each resource, from its events (or an HTTP look-up)."""

    __tablename__ = "catalog_resource"
    __table_args__ = (Index("ix_catalog_resource_topic", "topic"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    provider: Mapped[str] = mapped_column(Text)
    share_type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    field_names: Mapped[list[str]] = mapped_column(ARRAY(Text))
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CatalogRegistry(Base):
    """Read model of the catalog's registries: which department owns each (from ``registry.assigned`` events).

    The projector delivers a resource's source topic only when the resource's provider owns the registry that
    publishes it: a resource another department described over that topic carries nothing.
    """

    __tablename__ = "catalog_registry"

    service: Mapped[str] = mapped_column(Text, primary_key=True)
    owner: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ShareRequest(Base):
    """A consumer department's request to share a resource's fields, and where it stands."""

    __tablename__ = "share_request"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending_provider', 'pending_confirmation', 'granted', 'rejected', 'disputed', "
            "'refused', 'upheld')",
            name="status_known",
        ),
        Index("ix_share_request_consumer", "consumer", "id"),
        Index("ix_share_request_provider", "provider", "id"),
        Index("ix_share_request_due", "due_at", postgresql_where=text("status = 'pending_provider'")),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_id)
    consumer: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(Text)
    resource: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(ARRAY(Text))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    duration_days: Mapped[int] = mapped_column(Integer)
    row_scope: Mapped[dict[str, list[str]] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    overdue: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), default=False)
    escalated_at: Mapped[datetime | None]
    approved_fields: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    grant_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ShareRequestTransition(Base):
    """One step of a share request's history: who moved it from which status to which, when, and why."""

    __tablename__ = "share_request_transition"
    __table_args__ = (Index("ix_share_request_transition_request", "share_request_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    share_request_id: Mapped[str] = mapped_column(Text, ForeignKey("share_request.id"))
    action: Mapped[str] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    actor_department: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(server_default=func.now())


class AccessGrant(Base):
    """A department's standing permission to read a resource's fields for one purpose, until it ends."""

    __tablename__ = "access_grant"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'revoked', 'expired')", name="status_known"),
        Index("ix_access_grant_department", "department", "resource"),
        Index("ix_access_grant_provider", "provider", "id"),
        Index("ix_access_grant_expiry", "valid_until", postgresql_where=text("status = 'active'")),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_id)
    share_request_id: Mapped[str] = mapped_column(Text, ForeignKey("share_request.id"), unique=True)
    department: Mapped[str] = mapped_column(Text)
    resource: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(ARRAY(Text))
    purpose: Mapped[str] = mapped_column(Text)
    row_scope: Mapped[dict[str, list[str]] | None] = mapped_column(JSONB)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(Text)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Subscription(Base):
    """A consumer's standing order for a resource's change events, delivered under one grant."""

    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint("delivery IN ('feed', 'kafka')", name="delivery_known"),
        CheckConstraint("status IN ('active', 'cancelled')", name="status_known"),
        Index("ix_subscription_department", "department", "id"),
        Index("ix_subscription_resource", "resource", postgresql_where=text("status = 'active'")),
        # One Kafka subscription per department and resource: two would publish every event twice to one topic.
        Index(
            "uq_subscription_kafka",
            "department",
            "resource",
            unique=True,
            postgresql_where=text("status = 'active' AND delivery = 'kafka'"),
        ),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_id)
    department: Mapped[str] = mapped_column(Text)
    resource: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    grant_id: Mapped[str] = mapped_column(Text, ForeignKey("access_grant.id"))
    delivery: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="active")
    last_seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"), default=0)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    cancelled_at: Mapped[datetime | None]


class Delivery(Base):
    """One event delivered to one subscription: the delivery log, and the HTTP feed's store."""

    __tablename__ = "delivery"
    __table_args__ = (
        PrimaryKeyConstraint("subscription_id", "seq", name="pk_delivery"),
        UniqueConstraint("subscription_id", "event_id", name="uq_delivery_subscription_id"),
    )

    subscription_id: Mapped[str] = mapped_column(Text, ForeignKey("subscription.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    """Position in the subscription's feed, assigned under the subscription's row lock (gap-free, commit-ordered)."""
    event_id: Mapped[str] = mapped_column(Text)
    source_event_id: Mapped[str] = mapped_column(Text)
    grant_id: Mapped[str] = mapped_column(Text)
    record_key: Mapped[str] = mapped_column(Text)
    event: Mapped[dict[str, Any]] = mapped_column(JSONB)
    delivered_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Correction(Base):
    """A consumer's report of a suspect datum (校核), and the owner's answer."""

    __tablename__ = "correction"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved', 'dismissed')", name="status_known"),
        Index("ix_correction_provider", "provider", "id"),
        Index("ix_correction_reporter", "reporter_department", "id"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_id)
    resource: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    record_key: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(Text)
    reported_value: Mapped[Any] = mapped_column(JSONB, nullable=True)
    suggested_value: Mapped[Any] = mapped_column(JSONB, nullable=True)
    note: Mapped[str] = mapped_column(Text)
    reporter_department: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="open")
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class IdempotencyRecord(IdempotencyRecordColumns, Base):
    """The first answer to a creating POST with an ``Idempotency-Key``."""
