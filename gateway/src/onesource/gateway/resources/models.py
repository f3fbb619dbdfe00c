"""The catalog resource read model: what each published resource covers, kept from the catalog's events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from onesource.gateway.models import Base


class CatalogResource(Base):
    """The latest known version of a catalog resource: who provides it, which paths of which service it covers."""

    __tablename__ = "catalog_resource"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status_known"),
        # Start-up loads the published ones; the audit endpoint looks resources up by id.
        Index("ix_catalog_resource_published", "service", postgresql_where=text("status = 'published'")),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    service: Mapped[str | None] = mapped_column(Text)
    paths: Mapped[list[str]] = mapped_column(JSONB)
    """Path templates on ``service`` (``/v1/persons/{id_number}``)."""
    key: Mapped[str | None] = mapped_column(Text)
    """The record-key field."""
    shape: Mapped[str] = mapped_column(Text, server_default=text("'record'"))
    """How answers on its paths are masked: ``record``, ``geojson`` or ``sdmx``."""
    fields: Mapped[list[str]] = mapped_column(JSONB)
    """Names of the resource's fields."""
    filters: Mapped[dict[str, list[str]]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    """Query parameters of its paths that select by fields of other names, each with those fields."""
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    """When this row last changed."""
