"""Vintages, series and observations (append-only: each load a vintage), and the loads' Idempotency-Key records.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from onesource.kit.migrations import create_idempotency_record_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vintage",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("loaded_by", sa.String(128), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("release_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("series_count", sa.Integer(), nullable=False),
        sa.Column("observation_count", sa.BigInteger(), nullable=False),
        sa.Column("revised_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vintage"),
    )
    op.create_index("ix_vintage_flow_id", "vintage", ["flow_id", "id"])
    op.create_index("ix_vintage_due", "vintage", ["release_at"], postgresql_where=sa.text("released_at IS NULL"))
    op.create_table(
        "series",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("dimensions", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("attributes", postgresql.JSONB(), nullable=False),
        sa.Column("created_vintage", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_vintage"], ["vintage.id"], name="fk_series_created_vintage_vintage"),
        sa.PrimaryKeyConstraint("id", name="pk_series"),
    )
    op.create_index("uq_series_flow_id_key", "series", ["flow_id", "key"], unique=True)
    op.create_table(
        "observation",
        sa.Column("series_id", sa.BigInteger(), nullable=False),
        sa.Column("time_period", sa.String(16), nullable=False),
        sa.Column("vintage_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("status", sa.String(1), nullable=False),
        sa.CheckConstraint("period_start <= period_end", name="ck_observation_period_ordered"),
        sa.PrimaryKeyConstraint("series_id", "time_period", "vintage_id", name="pk_observation"),
    )
    create_idempotency_record_table()


def downgrade() -> None:
    op.drop_table("idempotency_record")
    op.drop_table("observation")
    op.drop_table("series")
    op.drop_table("vintage")
