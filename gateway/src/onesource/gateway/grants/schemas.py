"""Shapes of grants as the gateway reads them: the exchange's event documents, and the in-memory entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

GRANT_TOPIC = "onesource.exchange.grant.v1"
ISSUED = "gov.onesource.exchange.grant.issued.v1"
REVOKED = "gov.onesource.exchange.grant.revoked.v1"
EXPIRED = "gov.onesource.exchange.grant.expired.v1"
#: Every grant event type starts with this (``issued``, ``revoked``, ``expired`` and any added later).
GRANT_EVENT_PREFIX = "gov.onesource.exchange.grant."

GrantStatus = Literal["active", "revoked", "expired"]


class GrantDocument(BaseModel):
    """A grant as the exchange describes it (``gov.onesource.exchange.grant.*`` events, ``GET /v1/grants``)."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="ignore")

    id: str
    """The grant."""
    department: str
    """The department it entitles."""
    resource: str
    """The resource it covers."""
    provider: str
    """The department that owns the resource."""
    fields: list[str]
    """The fields it covers; no other field may be returned."""
    purpose: str
    """The purpose data calls must quote."""
    row_scope: dict[str, list[str]] | None
    """Records it covers, by field-value prefixes (``null``: every record)."""
    valid_from: datetime
    """Start of validity."""
    valid_until: datetime
    """End of validity."""
    status: GrantStatus
    """``active``, ``revoked`` or ``expired``."""


@dataclass(frozen=True, slots=True)
class Grant:
    """An active grant as the data path needs it; validity as POSIX timestamps, so checking it is two comparisons."""

    id: str
    department: str
    resource: str
    fields: frozenset[str]
    purpose: str
    row_scope: Mapping[str, tuple[str, ...]] | None
    """Field name → allowed value prefixes (``None``: every record)."""
    valid_from: float
    valid_until: float

    def in_force(self, now: float) -> bool:
        """Whether the grant allows reading at ``now`` (``valid_from <= now < valid_until``, like the exchange)."""
        return self.valid_from <= now < self.valid_until
