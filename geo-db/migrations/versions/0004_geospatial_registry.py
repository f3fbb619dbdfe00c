"""The geospatial registry on PostGIS: divisions (loaded from the shared GB/T 2260 data at start-up), addresses
and parcels with their versions and GiST indexes, bulk registrations of features, and the kit's
``Idempotency-Key`` store.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from onesource.kit.migrations import create_idempotency_record_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _lifecycle_columns() -> list[sa.Column]:
    return [
        sa.Column("status", sa.String(16), server_default=sa.text("'active'"), nullable=False),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.Column("retirement_reason", sa.String(200), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _version_table(name: str, key: str, length: int) -> None:
    op.create_table(
        f"{name}_version",
        sa.Column(key, sa.String(length), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("changes", postgresql.JSONB(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint(key, "version", name=f"pk_{name}_version"),
    )


def _lifecycle_checks(table: str) -> list[sa.CheckConstraint]:
    return [
        sa.CheckConstraint("status IN ('active', 'retired')", name=op.f(f"ck_{table}_status_known")),
        sa.CheckConstraint(
            "(status = 'retired') = (retired_on IS NOT NULL)", name=op.f(f"ck_{table}_retired_on_iff_retired")
        ),
        sa.CheckConstraint("version >= 1", name=op.f(f"ck_{table}_version_positive")),
    ]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "division",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("code", sa.String(6), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint("level IN ('province', 'prefecture', 'county')", name=op.f("ck_division_level_known")),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to", name=op.f("ck_division_dates_ordered")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_division")),
    )
    op.create_index("ix_division_code", "division", ["code"])
    op.create_table(
        "division_load",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_division_load")),
    )
    op.create_table(
        "address",
        sa.Column("address_code", sa.String(18), nullable=False),
        sa.Column("division_code", sa.String(6), nullable=False),
        sa.Column("town", sa.String(64), nullable=False),
        sa.Column("community", sa.String(64), nullable=True),
        sa.Column("road", sa.String(64), nullable=True),
        sa.Column("door_number", sa.String(32), nullable=True),
        sa.Column("building", sa.String(32), nullable=True),
        sa.Column("unit", sa.String(16), nullable=True),
        sa.Column("room", sa.String(16), nullable=True),
        sa.Column("full_address", sa.String(400), nullable=False),
        sa.Column("geometry", Geometry("POINT", srid=4490, spatial_index=False), nullable=False),
        *_lifecycle_columns(),
        *_lifecycle_checks("address"),
        sa.PrimaryKeyConstraint("address_code", name=op.f("pk_address")),
    )
    op.create_index("ix_address_geometry", "address", ["geometry"], postgresql_using="gist")
    op.create_index("ix_address_geography", "address", [sa.text("(geometry::geography)")], postgresql_using="gist")
    op.create_index("ix_address_division_code", "address", ["division_code"])
    _version_table("address", "address_code", 18)
    op.create_table(
        "parcel",
        sa.Column("parcel_code", sa.String(19), nullable=False),
        sa.Column("division_code", sa.String(6), nullable=False),
        sa.Column("land_use", sa.String(4), nullable=False),
        sa.Column("location_description", sa.String(200), nullable=True),
        sa.Column("geometry", Geometry("GEOMETRY", srid=4490, spatial_index=False), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        *_lifecycle_columns(),
        sa.CheckConstraint(
            "GeometryType(geometry) IN ('POLYGON', 'MULTIPOLYGON')", name=op.f("ck_parcel_geometry_is_areal")
        ),
        sa.CheckConstraint("area_m2 > 0", name=op.f("ck_parcel_area_positive")),
        *_lifecycle_checks("parcel"),
        sa.PrimaryKeyConstraint("parcel_code", name=op.f("pk_parcel")),
    )
    op.create_index("ix_parcel_geometry", "parcel", ["geometry"], postgresql_using="gist")
    op.create_index("ix_parcel_division_code", "parcel", ["division_code"])
    _version_table("parcel", "parcel_code", 19)
    op.create_table(
        "feature_import",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("collection", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("features", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_import")),
    )
    create_idempotency_record_table()


def downgrade() -> None:
    for table in ("idempotency_record", "feature_import", "parcel_version", "parcel", "address_version", "address"):
        op.drop_table(table)
    op.drop_table("division_load")
    op.drop_table("division")
    # the extension stays: other objects of the database may use it
