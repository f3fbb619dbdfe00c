"""Tables of the geospatial registry: its own database (PostgreSQL with PostGIS), its own metadata.

Geometries are CGCS2000 (EPSG:4490) longitude/latitude. Each spatial query has its GiST index: parcels' boundaries
(point in parcel, bounding box), addresses' locations (bounding box) and the same locations as geography (nearby
in metres, ``ST_DWithin`` and ``<->`` ordering).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, CheckConstraint, Date, Identity, Index, PrimaryKeyConstraint, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onesource.kit.db import TYPE_ANNOTATION_MAP, new_metadata
from onesource.kit.idempotency import IdempotencyRecordColumns
from onesource.registry.records import RecordVersionColumns

SRID = 4490


class Base(DeclarativeBase):
    """Declarative base of this service's tables."""

    metadata = new_metadata()
    type_annotation_map: dict[Any, Any] = TYPE_ANNOTATION_MAP


class Division(Base):
    """One name of one GB/T 2260 division code and the dates it held (loaded from ``onesource.standards``)."""

    __tablename__ = "division"
    __table_args__ = (
        Index("ix_division_code", "code"),
        CheckConstraint("level IN ('province', 'prefecture', 'county')", name="level_known"),
        CheckConstraint("valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[date | None] = mapped_column(Date)
    """First day this name held (inclusive); ``None``: already so in the first edition."""
    valid_to: Mapped[date | None] = mapped_column(Date)
    """First day it no longer held (exclusive); ``None``: still so in the last edition."""


class DivisionLoad(Base):
    """Which state of the shared division data the table holds (a digest of it), so start-up loads it only once."""

    __tablename__ = "division_load"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Address(Base):
    """An address (地址) with its GB/T 23705 levels and its point, keyed by address code."""

    __tablename__ = "address"
    __table_args__ = (
        Index("ix_address_geometry", "geometry", postgresql_using="gist"),
        Index("ix_address_geography", text("(geometry::geography)"), postgresql_using="gist"),
        Index("ix_address_division_code", "division_code"),
        CheckConstraint("status IN ('active', 'retired')", name="status_known"),
        CheckConstraint("(status = 'retired') = (retired_on IS NOT NULL)", name="retired_on_iff_retired"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    address_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(6))
    town: Mapped[str] = mapped_column(String(64))
    community: Mapped[str | None] = mapped_column(String(64))
    road: Mapped[str | None] = mapped_column(String(64))
    door_number: Mapped[str | None] = mapped_column(String(32))
    building: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(16))
    room: Mapped[str | None] = mapped_column(String(16))
    full_address: Mapped[str] = mapped_column(String(400))
    geometry: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'active'"))
    retired_on: Mapped[date | None] = mapped_column(Date)
    retirement_reason: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AddressVersion(RecordVersionColumns, Base):
    """One committed version of an address (append-only)."""

    __tablename__ = "address_version"
    __table_args__ = (PrimaryKeyConstraint("address_code", "version", name="pk_address_version"),)

    address_code: Mapped[str] = mapped_column(String(18))


class Parcel(Base):
    """A parcel (宗地) with its boundary, GB/T 21010-2017 land use and area on the ellipsoid, keyed by parcel code."""

    __tablename__ = "parcel"
    __table_args__ = (
        Index("ix_parcel_geometry", "geometry", postgresql_using="gist"),
        Index("ix_parcel_division_code", "division_code"),
        CheckConstraint("GeometryType(geometry) IN ('POLYGON', 'MULTIPOLYGON')", name="geometry_is_areal"),
        CheckConstraint("status IN ('active', 'retired')", name="status_known"),
        CheckConstraint("(status = 'retired') = (retired_on IS NOT NULL)", name="retired_on_iff_retired"),
        CheckConstraint("area_m2 > 0", name="area_positive"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    parcel_code: Mapped[str] = mapped_column(String(19), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(6))
    land_use: Mapped[str] = mapped_column(String(4))
    location_description: Mapped[str | None] = mapped_column(String(200))
    geometry: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=False))
    area_m2: Mapped[float]
    status: Mapped[str] = mapped_column(String(16), server_default=text("'active'"))
    retired_on: Mapped[date | None] = mapped_column(Date)
    retirement_reason: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ParcelVersion(RecordVersionColumns, Base):
    """One committed version of a parcel (append-only)."""

    __tablename__ = "parcel_version"
    __table_args__ = (PrimaryKeyConstraint("parcel_code", "version", name="pk_parcel_version"),)

    parcel_code: Mapped[str] = mapped_column(String(19))


class FeatureImport(Base):
    """A bulk registration of features (a FeatureCollection): who sent it, into which collection, how many."""

    __tablename__ = "feature_import"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    collection: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(32))
    features: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class IdempotencyRecord(IdempotencyRecordColumns, Base):
    """The first answer to a registration with an ``Idempotency-Key`` (the kit's store, ``kit.idempotency``)."""
