"""Tables of the legal-entity registry: its own database, its own metadata."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onesource.kit.db import TYPE_ANNOTATION_MAP, new_metadata
from onesource.kit.idempotency import IdempotencyRecordColumns
from onesource.registry.imports.models import RecordImportColumns, RecordImportErrorColumns
from onesource.registry.records import RecordVersionColumns


class Base(DeclarativeBase):
    """Declarative base of this service's tables."""

    metadata = new_metadata()
    type_annotation_map: dict[Any, Any] = TYPE_ANNOTATION_MAP


class Entity(Base):
    """A legal entity as currently registered (法人单位基础信息), keyed by its unified social credit code."""

    __tablename__ = "entity"
    __table_args__ = (
        Index("ix_entity_region_code", "region_code", postgresql_ops={"region_code": "text_pattern_ops"}),
        Index("ix_entity_industry_code", "industry_code", postgresql_ops={"industry_code": "text_pattern_ops"}),
        Index("ix_entity_industry_section", "industry_section"),
        Index("ix_entity_status", "status"),
        Index("ix_entity_established_on", "established_on"),
        Index("ix_entity_legal_representative_id", "legal_representative_id"),
        CheckConstraint("char_length(uscc) = 18", name="uscc_length"),
        CheckConstraint(
            "status IN ('active', 'suspended', 'revoked', 'deregistered', 'cancelled', 'moved_out')",
            name="status_known",
        ),
        CheckConstraint("industry_section ~ '^[A-T]$'", name="industry_section_letter"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    former_names: Mapped[list[str]] = mapped_column(ARRAY(String(200)), server_default=text("'{}'"))
    entity_type: Mapped[str] = mapped_column(String(4))
    legal_representative_id: Mapped[str] = mapped_column(String(18))
    established_on: Mapped[date] = mapped_column(Date)
    registered_capital: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    """``{"amount": "<decimal string>", "currency": "<ISO 4217>"}``: the amount kept exactly as a string."""
    business_scope: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'active'"))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_effective_on: Mapped[date | None] = mapped_column(Date)
    registration_authority: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6))
    industry_code: Mapped[str] = mapped_column(String(4))
    industry_section: Mapped[str] = mapped_column(String(1))
    address: Mapped[str] = mapped_column(String(400))
    operating_until: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    """The bulk import that registered the entity. Until its first change, such an entity's first version is this
    row (with the import's client and request) and has no ``entity_version`` row: an import writes one row per
    entity, not two (``registry.imports.loading``). The first change writes it out."""


def name_grams(name: Any) -> Any:
    """Every character and every two adjacent characters of ``name``, as the SQL function of migration 0004 makes them.

    The name search's GIN index holds these, so a Chinese substring is found through the index whatever the
    database's locale (pg_trgm makes no trigrams of CJK text under the C locale, and wants three characters where
    two make a word).
    """
    return func.entity_name_grams(name, type_=ARRAY(Text))


Index("ix_entity_name_grams", name_grams(Entity.name), postgresql_using="gin")


class EntityVersion(RecordVersionColumns, Base):
    """One committed version of an entity: what changed, who changed it and when (append-only)."""

    __tablename__ = "entity_version"
    __table_args__ = (PrimaryKeyConstraint("uscc", "version", name="pk_entity_version"),)

    uscc: Mapped[str] = mapped_column(String(18))


class EntityImport(RecordImportColumns, Base):
    """A bulk import of entities: who sent it, how far it got, and what it accepted and refused."""

    __tablename__ = "entity_import"


class EntityImportError(RecordImportErrorColumns, Base):
    """One refused row of an entity import, with the field and the reason."""

    __tablename__ = "entity_import_error"
    __table_args__ = (Index("ix_entity_import_error_import_id_line", "import_id", "line"),)

    import_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("entity_import.id", ondelete="CASCADE"))


class RepresentativeDeath(Base):
    """A legal representative's death, as population's delivered change events told it (a finding, not a copy).

    Only the ID number, when the death was reported and by which event: the person stays population-db's. Kept for
    persons who represented an entity when the event came; ``GET /v1/findings`` lists the entities they represent.
    """

    __tablename__ = "representative_death"

    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    reported_at: Mapped[datetime]
    """When population-db registered the death (the event's time)."""
    event_id: Mapped[str] = mapped_column(Text)
    """The delivered event that told it."""
    noticed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class IdempotencyRecord(IdempotencyRecordColumns, Base):
    """The first answer to a registration with an ``Idempotency-Key`` (the kit's store, ``kit.idempotency``)."""
