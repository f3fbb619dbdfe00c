"""API shapes of subscriptions and their event feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DeliveryMode = Literal["feed", "kafka"]


class SubscriptionCreate(BaseModel):
    """A standing order for a resource's change events."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    resource: str = Field(min_length=1, max_length=200, examples=["population.person"])
    """The resource whose changes to receive."""
    delivery: DeliveryMode = "feed"
    """``feed`` (HTTP only) or ``kafka`` (also published to the department's delivery topic)."""
    grant_id: str | None = Field(default=None, max_length=64)
    """The grant to deliver under; the department's newest active grant on the resource when absent."""


class Subscription(BaseModel):
    """A subscription and where its events go."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: str
    """Identifier (UUIDv7)."""
    department: str
    """The subscribing department."""
    resource: str
    """The resource whose changes it receives."""
    provider: str
    """The department that owns the resource."""
    grant_id: str
    """The grant deliveries are masked to; revoking it stops delivery."""
    delivery: DeliveryMode
    """``feed`` or ``kafka``."""
    topic: str | None
    """For ``kafka``: the delivery topic, ``onesource.delivery.<department>.<resource>``."""
    status: Literal["active", "cancelled"]
    """``active`` or ``cancelled``."""
    created_by: str
    """The client that subscribed."""
    created_at: datetime
    """When; only changes from then on are delivered."""
    cancelled_at: datetime | None
    """When it was cancelled."""


class EventFeed(BaseModel):
    """Delivered events after a cursor."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[dict[str, Any]]
    """CloudEvents, oldest first, with only the granted fields."""
    next_cursor: str
    """Pass as ``after`` to continue from here (also when no event came)."""
