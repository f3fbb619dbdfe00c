"""Events of share requests: one per transition, on ``onesource.exchange.share-request.v1``."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from onesource.kit.events import DomainEvent

SHARE_REQUEST_TOPIC = "onesource.exchange.share-request.v1"
SOURCE = "/onesource/exchange"


class ShareRequestEvent(DomainEvent):
    """Base of share-request events: the request as it stands after the step, and the step."""

    topic: ClassVar[str] = SHARE_REQUEST_TOPIC
    source: ClassVar[str] = SOURCE

    id: str
    """The share request."""
    status: str
    """Its status after the step."""
    consumer: str
    """The requesting department."""
    resource: str
    """The resource asked for."""
    provider: str
    """The department that owns the resource."""
    fields: list[str]
    """Fields asked for."""
    approved_fields: list[str] | None
    """Fields approved, once decided."""
    purpose: str
    """What the data is for."""
    due_at: datetime | None
    """The provider's deadline."""
    overdue: bool
    """Whether the deadline passed unanswered."""
    grant_id: str | None
    """The grant issued, once granted."""
    actor: str
    """Who took the step."""
    actor_department: str
    """For which department."""
    note: str | None
    """Reason or remark."""

    def subject(self) -> str:
        """The share request id."""
        return self.id


class ShareRequestSubmitted(ShareRequestEvent):
    """A consumer asked for a conditional resource; the provider must answer by ``due_at``."""

    event_type: ClassVar[str] = "gov.onesource.exchange.share-request.submitted.v1"


class ShareRequestGranted(ShareRequestEvent):
    """A request for an unconditional resource was granted at once."""

    event_type: ClassVar[str] = "gov.onesource.exchange.share-request.granted.v1"


class ShareRequestRefused(ShareRequestEvent):
    """A request for a resource that is not shared was refused, quoting the legal basis."""

    event_type: ClassVar[str] = "gov.onesource.exchange.share-request.refused.v1"


class ShareRequestApproved(ShareRequestEvent):
    """The provider approved (possibly fewer fields); awaiting the coordinator's confirmation."""

    event_type: ClassVar[str] = "gov.onesource.exchange.share-request.approved.v1"


class ShareRequestRejected(ShareRequestEvent):
    """The provider rejected the request, with a reason."""

    event_type: ClassVar[str] = "gov.onesource.exchange.share-request.rejected.v1"


class ShareRequestConfirmed(ShareRequestEvent):
    """The coordinator confirmed the provider's approval; a grant was issued."""

    event_type: ClassVar[str] = "gov.onesource.exchange.share-request.confirmed.v1"


class ShareRequestDisputed(ShareRequestEvent):
    """The consumer disputed a rejection; the coordinator mediates."""

    event_type: ClassVar[str] = "gov.onesource.exchange.share-request.disputed.v1"


class ShareRequestMediated(ShareRequestEvent):
    """The coordinator's mediation granted a disputed request; a grant was issued."""

    event_type: ClassVar[str] = "gov.onesource.exchange.share-request.mediated.v1"


class ShareRequestUpheld(ShareRequestEvent):
    """The coordinator's mediation upheld the provider's rejection."""

    event_type: ClassVar[str] = "gov.onesource.exchange.share-request.upheld.v1"


class ShareRequestEscalated(ShareRequestEvent):
    """The provider missed its deadline; the request is flagged overdue and escalated to the coordinators."""

    event_type: ClassVar[str] = "gov.onesource.exchange.share-request.escalated.v1"


EVENTS_BY_ACTION: dict[str, type[ShareRequestEvent]] = {
    "submitted": ShareRequestSubmitted,
    "granted": ShareRequestGranted,
    "refused": ShareRequestRefused,
    "approved": ShareRequestApproved,
    "rejected": ShareRequestRejected,
    "confirmed": ShareRequestConfirmed,
    "disputed": ShareRequestDisputed,
    "mediated": ShareRequestMediated,
    "upheld": ShareRequestUpheld,
    "escalated": ShareRequestEscalated,
}
