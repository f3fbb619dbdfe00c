"""Tables of the population registry: its own database, its own metadata."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    PrimaryKeyConstraint,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onesource.kit.db import TYPE_ANNOTATION_MAP, new_metadata
from onesource.kit.idempotency import IdempotencyRecordColumns
from onesource.registry.records import RecordVersionColumns


class Base(DeclarativeBase):
    """Declarative base of this service's tables."""

    metadata = new_metadata()
    type_annotation_map: dict[Any, Any] = TYPE_ANNOTATION_MAP


class Person(Base):
    """A person as currently registered (人口基础信息), keyed by citizen ID number."""

    __tablename__ = "person"
    __table_args__ = (
        # Prefix searches (``name LIKE '王%'``, region ``LIKE '1101%'``) use these whatever the database collation.
        Index("ix_person_name", "name", postgresql_ops={"name": "text_pattern_ops"}),
        Index(
            "ix_person_household_region_code",
            "household_region_code",
            postgresql_ops={"household_region_code": "text_pattern_ops"},
        ),
        Index("ix_person_birth_date", "birth_date"),
        CheckConstraint("char_length(id_number) = 18", name="id_number_length"),
        CheckConstraint("sex IN ('1', '2')", name="sex_from_id_number"),
        CheckConstraint("deceased = (death_date IS NOT NULL)", name="death_date_iff_deceased"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    former_names: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default=text("'{}'"))
    sex: Mapped[str] = mapped_column(String(1))
    ethnicity: Mapped[str] = mapped_column(String(2))
    birth_date: Mapped[date] = mapped_column(Date)
    birthplace_code: Mapped[str] = mapped_column(String(6))
    household_region_code: Mapped[str] = mapped_column(String(6))
    household_address: Mapped[str | None] = mapped_column(String(200))
    marital_status: Mapped[str | None] = mapped_column(String(2))
    education: Mapped[str | None] = mapped_column(String(2))
    household_id: Mapped[str | None] = mapped_column(String(32))
    relationship_to_head: Mapped[str | None] = mapped_column(String(2))
    deceased: Mapped[bool] = mapped_column(server_default=text("false"))
    death_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    """The bulk import that registered the person. Until its first change, such a person's first version is this
    row (with the import's client and request) and has no ``person_version`` row: an import writes one row per
    person, not two. The first change writes it out (see ``persons.service``)."""


class PersonVersion(RecordVersionColumns, Base):
    """One committed version of a person: what changed, who changed it and when (append-only)."""

    __tablename__ = "person_version"
    __table_args__ = (PrimaryKeyConstraint("id_number", "version", name="pk_person_version"),)

    id_number: Mapped[str] = mapped_column(String(18))
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class PersonImport(Base):
    """A bulk import: who sent it, how far it got, and what it accepted and refused."""

    __tablename__ = "person_import"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(32))
    rows_read: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    accepted: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    rejected: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    failure: Mapped[str | None]
    request_id: Mapped[str | None] = mapped_column(String(64))
    """The request that sent the file (recorded in the first versions of the persons it registers)."""
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]


class PersonImportError(Base):
    """One refused row of a bulk import, with the field and the reason."""

    __tablename__ = "person_import_error"
    __table_args__ = (Index("ix_person_import_error_import_id_line", "import_id", "line"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    import_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("person_import.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(BigInteger)
    id_number: Mapped[str | None] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str]


class IdempotencyRecord(IdempotencyRecordColumns, Base):
    """The first answer to a registration with an ``Idempotency-Key`` (the kit's store, ``kit.idempotency``)."""
