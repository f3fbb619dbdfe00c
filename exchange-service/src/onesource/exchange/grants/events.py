"""Events of grants on ``onesource.exchange.grant.v1``: the gateway and the catalog keep their views exact with them."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from onesource.kit.events import DomainEvent

GRANT_TOPIC = "onesource.exchange.grant.v1"


class GrantEvent(DomainEvent):
    """Base of grant events: the grant document after the change."""

    topic: ClassVar[str] = GRANT_TOPIC
    source: ClassVar[str] = "/onesource/exchange"

    id: str
    """The grant."""
    share_request_id: str
    """The share request it answers."""
    department: str
    """The department it entitles."""
    resource: str
    """The resource it covers."""
    provider: str
    """The department that owns the resource."""
    fields: list[str]
    """The fields it covers; no other field may be returned or delivered."""
    purpose: str
    """The purpose data calls must quote."""
    row_scope: dict[str, list[str]] | None
    """Records it covers, by field-value prefixes (``null``: every record)."""
    valid_from: datetime
    """Start of validity."""
    valid_until: datetime
    """End of validity."""
    status: Literal["active", "revoked", "expired"]
    """``active``, ``revoked`` or ``expired``."""
    revoked_reason: str | None = None
    """Why it was revoked."""

    def subject(self) -> str:
        """The grant id."""
        return self.id


class GrantIssued(GrantEvent):
    """A grant was issued (unconditional request, confirmed approval, or mediation)."""

    event_type: ClassVar[str] = "gov.onesource.exchange.grant.issued.v1"


class GrantRevoked(GrantEvent):
    """A grant was revoked: data calls and deliveries under it stop at once."""

    event_type: ClassVar[str] = "gov.onesource.exchange.grant.revoked.v1"


class GrantExpired(GrantEvent):
    """A grant reached its ``valid_until``."""

    event_type: ClassVar[str] = "gov.onesource.exchange.grant.expired.v1"
