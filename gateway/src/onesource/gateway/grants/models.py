"""The grant read model: which department may read which fields of which resource, kept from the exchange's events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from onesource.gateway.models import Base


class AccessGrant(Base):
    """A grant as the exchange last described it; a revoked or expired one never becomes active again."""

    __tablename__ = "access_grant"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'revoked', 'expired')", name="status_known"),
        Index("ix_access_grant_active", "department", "resource", postgresql_where=text("status = 'active'")),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    department: Mapped[str] = mapped_column(Text)
    """The department it entitles."""
    resource: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(JSONB)
    purpose: Mapped[str] = mapped_column(Text)
    row_scope: Mapped[dict[str, list[str]] | None] = mapped_column(JSONB)
    """Field name → allowed value prefixes (``None``: every record)."""
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    """When this row last changed."""
