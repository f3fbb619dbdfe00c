"""Tables of catalog: its own database, its own metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onesource.kit.db import TYPE_ANNOTATION_MAP, new_metadata
from onesource.kit.idempotency import IdempotencyRecordColumns


class Base(DeclarativeBase):
    """Declarative base of this service's tables."""

    metadata = new_metadata()
    type_annotation_map: dict[Any, Any] = TYPE_ANNOTATION_MAP


class Resource(Base):
    """A directory entry (信息资源): its current document, search terms and status."""

    __tablename__ = "resource"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status_known"),
        CheckConstraint("category IN ('base', 'theme', 'department')", name="category_known"),
        CheckConstraint("share_type IN ('unconditional', 'conditional', 'not_shared')", name="share_type_known"),
        CheckConstraint("shape IN ('record', 'geojson', 'sdmx')", name="shape_known"),
        Index("ix_resource_search", "search", postgresql_using="gin"),
        Index("ix_resource_elements", "elements", postgresql_using="gin"),
        Index("ix_resource_provider", "provider", "id"),
        Index("ix_resource_status", "status", "id"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(Text)
    shape: Mapped[str] = mapped_column(Text, server_default=text("'record'"))
    update_cycle: Mapped[str] = mapped_column(Text)
    share_type: Mapped[str] = mapped_column(Text)
    share_condition: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    open_to_public: Mapped[bool] = mapped_column(Boolean)
    open_condition: Mapped[str | None] = mapped_column(Text)
    service: Mapped[str | None] = mapped_column(Text)
    paths: Mapped[list[str]] = mapped_column(ARRAY(Text))
    key: Mapped[str | None] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    filters: Mapped[dict[str, list[str]]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    """Query parameters selecting records by fields of other names, each with those fields."""
    elements: Mapped[list[str]] = mapped_column(ARRAY(Text))
    """Every element the fields name (``element`` and ``source_element``), for the element filter."""
    search: Mapped[Any] = mapped_column(TSVECTOR)
    """Search terms (see ``resources.search``), built in Python and stored verbatim."""
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


class Registry(Base):
    """A registry service (人口、法人、空间、宏观 …) and the one department that owns its data.

    The directory of who owns which datum: only this department's stewards describe the registry's paths and topics
    in the catalog, and the gateway opens no resource of another provider on it. Platform admins set it.
    """

    __tablename__ = "registry"

    service: Mapped[str] = mapped_column(Text, primary_key=True)
    """The registry's service name, as in ``/api/<service>/…`` and a resource's ``service``."""
    owner: Mapped[str] = mapped_column(Text)
    """The owning department's code."""
    version: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class ResourceVersion(Base):
    """Every version of a resource's document: who made it, when, by which action."""

    __tablename__ = "resource_version"
    __table_args__ = (PrimaryKeyConstraint("resource_id", "version", name="pk_resource_version"),)

    resource_id: Mapped[str] = mapped_column(Text, ForeignKey("resource.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    changed_by: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime]


class Element(Base):
    """A platform-wide data element (数据元) code, registered when a resource first names it."""

    __tablename__ = "element"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    registered_by: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ElementClaim(Base):
    """One field of a resource as a claim on an element: authoritative, or a copy of ``source_element``.

    The partial unique index is the race-safe form of "one datum, one source": two transactions publishing
    authoritative claims on one element cannot both commit.
    """

    __tablename__ = "element_claim"
    __table_args__ = (
        PrimaryKeyConstraint("resource_id", "field", name="pk_element_claim"),
        Index(
            "uq_element_claim_authority",
            "element",
            unique=True,
            postgresql_where=text("authoritative AND resource_status = 'published'"),
        ),
        Index("ix_element_claim_element", "element"),
        Index("ix_element_claim_copies", "provider", postgresql_where=text("NOT authoritative")),
    )

    resource_id: Mapped[str] = mapped_column(Text, ForeignKey("resource.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(Text)
    element: Mapped[str] = mapped_column(Text)
    source_element: Mapped[str | None] = mapped_column(Text)
    authoritative: Mapped[bool] = mapped_column(Boolean)
    provider: Mapped[str] = mapped_column(Text)
    resource_status: Mapped[str] = mapped_column(Text)


class DirectorySequence(Base):
    """The last sequence code (顺序码) assigned per category code (分类码)."""

    __tablename__ = "directory_sequence"

    category_code: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer)


class IdempotencyRecord(IdempotencyRecordColumns, Base):
    """The first answer to a creating POST with an ``Idempotency-Key``."""


class Department(Base):
    """The platform's departments as the gateway's events describe them (read model): the possible providers."""

    __tablename__ = "department"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    uscc: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ExchangeGrant(Base):
    """The exchange's grants as its events describe them (read model); retiring checks the active ones."""

    __tablename__ = "exchange_grant"
    __table_args__ = (Index("ix_exchange_grant_active", "resource", postgresql_where=text("status = 'active'")),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    resource: Mapped[str] = mapped_column(Text)
    department: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(ARRAY(Text))
    purpose: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
