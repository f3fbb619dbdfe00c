"""What the catalog reads from the exchange's grant events."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

GRANT_TOPIC = "onesource.exchange.grant.v1"
ISSUED = "gov.onesource.exchange.grant.issued.v1"
REVOKED = "gov.onesource.exchange.grant.revoked.v1"
EXPIRED = "gov.onesource.exchange.grant.expired.v1"


class GrantData(BaseModel):
    """The ``data`` of a grant event (other attributes the exchange sends are ignored)."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="ignore")

    id: str
    """The grant id (also the event subject)."""
    department: str
    """The consumer department."""
    resource: str
    """The resource granted."""
    fields: list[str]
    """The fields granted."""
    purpose: str
    """The purpose it was granted for."""
    valid_from: datetime | None = None
    """Start of validity."""
    valid_until: datetime | None = None
    """End of validity (``null``: until revoked)."""
    status: str
    """The grant's status as the exchange sees it."""
