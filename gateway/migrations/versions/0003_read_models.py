"""Read models fed by events: catalog resources (what covers a data path) and grants.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_resource",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("service", sa.Text(), nullable=True),
        sa.Column("paths", postgresql.JSONB(), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("fields", postgresql.JSONB(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'published', 'retired')", name="ck_catalog_resource_status_known"),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_resource"),
    )
    op.create_index(
        "ix_catalog_resource_published",
        "catalog_resource",
        ["service"],
        postgresql_where=sa.text("status = 'published'"),
    )
    op.create_table(
        "access_grant",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("fields", postgresql.JSONB(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("row_scope", postgresql.JSONB(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'revoked', 'expired')", name="ck_access_grant_status_known"),
        sa.PrimaryKeyConstraint("id", name="pk_access_grant"),
    )
    op.create_index(
        "ix_access_grant_active",
        "access_grant",
        ["department", "resource"],
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("ix_access_grant_active", table_name="access_grant")
    op.drop_table("access_grant")
    op.drop_index("ix_catalog_resource_published", table_name="catalog_resource")
    op.drop_table("catalog_resource")
