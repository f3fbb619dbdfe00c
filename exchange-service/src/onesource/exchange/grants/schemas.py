"""API shapes of grants."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

GrantStatus = Literal["active", "revoked", "expired"]


class Grant(BaseModel):
    """A department's permission to read fields of a resource for a purpose, within a validity period."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: str
    """Identifier (UUIDv7)."""
    share_request_id: str
    """The share request it answers."""
    department: str
    """The department it entitles."""
    resource: str
    """The resource it covers."""
    provider: str
    """The department that owns the resource."""
    fields: list[str]
    """The fields it covers."""
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
    revoked_reason: str | None
    """Why it was revoked."""
    revoked_by: str | None
    """Who revoked it."""
    revoked_at: datetime | None
    """When it was revoked."""
    expired_at: datetime | None
    """When it expired."""
    created_at: datetime
    """When it was issued."""


class Revocation(BaseModel):
    """Why a grant is revoked."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
    """Recorded on the grant and in its event."""
