"""Tables of the macroeconomy registry: its own database, its own metadata.

Structures (agency, code lists, DSDs, dataflows) are declared in code (``dataflows.definitions``); the tables hold
what loads bring: vintages, series and observations. Observations are never updated: each load adds its values
under its own vintage, and a query picks, per observation, the latest vintage the caller may see.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onesource.kit.db import TYPE_ANNOTATION_MAP, new_metadata
from onesource.kit.idempotency import IdempotencyRecordColumns


class Base(DeclarativeBase):
    """Declarative base of this service's tables."""

    metadata = new_metadata()
    type_annotation_map: dict[Any, Any] = TYPE_ANNOTATION_MAP


class Vintage(Base):
    """One load of a dataflow: its observations, who loaded them, when, and when they are released."""

    __tablename__ = "vintage"
    __table_args__ = (
        Index("ix_vintage_flow_id", "flow_id", "id"),
        # the release loop's work list: vintages due and not yet released
        Index("ix_vintage_due", "release_at", postgresql_where="released_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    loaded_at: Mapped[datetime] = mapped_column(server_default=func.now())
    loaded_by: Mapped[str] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(String(64))
    release_at: Mapped[datetime]
    """When its observations reach everyone (the load time when it was not embargoed)."""
    released_at: Mapped[datetime | None]
    """When the registry wrote its release events (once; ``NULL`` while embargoed)."""
    series_count: Mapped[int] = mapped_column(Integer)
    observation_count: Mapped[int] = mapped_column(BigInteger)
    revised_count: Mapped[int] = mapped_column(BigInteger)
    """Observations of this vintage that revise a value of an earlier one."""


class Series(Base):
    """A series of a dataflow: its key (dimension values) and its series-level attributes."""

    __tablename__ = "series"
    __table_args__ = (Index("uq_series_flow_id_key", "flow_id", "key", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(256, collation="C"))
    """Dimension values in key order, dot-separated; byte order (a key's prefix is a range of the key index)."""
    dimensions: Mapped[list[str]] = mapped_column(ARRAY(Text))
    """Values of the structure's dimensions, in key order."""
    attributes: Mapped[dict[str, str]] = mapped_column(JSONB)
    """Series-level attributes (``UNIT_MEASURE``, ``UNIT_MULT``, ``DECIMALS``): part of what the series is."""
    created_vintage: Mapped[int] = mapped_column(Integer, ForeignKey("vintage.id"))


class Observation(Base):
    """The value of one period of a series as one vintage loaded it (append-only)."""

    __tablename__ = "observation"
    __table_args__ = (CheckConstraint("period_start <= period_end", name="period_ordered"),)

    series_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    time_period: Mapped[str] = mapped_column(String(16), primary_key=True)
    vintage_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(1))
    """``OBS_STATUS``: as loaded, or ``R`` where the load revised an earlier value and gave none, else ``A``."""


class IdempotencyRecord(IdempotencyRecordColumns, Base):
    """The first answer to a load with an ``Idempotency-Key`` (the kit's store, ``kit.idempotency``)."""
