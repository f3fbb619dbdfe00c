"""The resource directory: resources and their versions, elements and claims, sequences, idempotency, grants.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("update_cycle", sa.Text(), nullable=False),
        sa.Column("share_type", sa.Text(), nullable=False),
        sa.Column("share_condition", sa.Text(), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("open_to_public", sa.Boolean(), nullable=False),
        sa.Column("open_condition", sa.Text(), nullable=True),
        sa.Column("service", sa.Text(), nullable=True),
        sa.Column("paths", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fields", postgresql.JSONB(), nullable=False),
        sa.Column("elements", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("search", postgresql.TSVECTOR(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'published', 'retired')", name=op.f("ck_resource_status_known")),
        sa.CheckConstraint("category IN ('base', 'theme', 'department')", name=op.f("ck_resource_category_known")),
        sa.CheckConstraint(
            "share_type IN ('unconditional', 'conditional', 'not_shared')", name=op.f("ck_resource_share_type_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource")),
        sa.UniqueConstraint("code", name=op.f("uq_resource_code")),
    )
    op.create_index("ix_resource_search", "resource", ["search"], postgresql_using="gin")
    op.create_index("ix_resource_elements", "resource", ["elements"], postgresql_using="gin")
    op.create_index("ix_resource_provider", "resource", ["provider", "id"])
    op.create_index("ix_resource_status", "resource", ["status", "id"])

    op.create_table(
        "resource_version",
        sa.Column("resource_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
            name=op.f("fk_resource_version_resource_id_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_id", "version", name="pk_resource_version"),
    )

    op.create_table(
        "element",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_element")),
    )

    op.create_table(
        "element_claim",
        sa.Column("resource_id", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("element", sa.Text(), nullable=False),
        sa.Column("source_element", sa.Text(), nullable=True),
        sa.Column("authoritative", sa.Boolean(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("resource_status", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
            name=op.f("fk_element_claim_resource_id_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_id", "field", name="pk_element_claim"),
    )
    # One datum, one source: at most one published authoritative field per element, enforced by the database.
    op.create_index(
        "uq_element_claim_authority",
        "element_claim",
        ["element"],
        unique=True,
        postgresql_where=sa.text("authoritative AND resource_status = 'published'"),
    )
    op.create_index("ix_element_claim_element", "element_claim", ["element"])
    op.create_index(
        "ix_element_claim_copies", "element_claim", ["provider"], postgresql_where=sa.text("NOT authoritative")
    )

    op.create_table(
        "directory_sequence",
        sa.Column("category_code", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("category_code", name=op.f("pk_directory_sequence")),
    )

    op.create_table(
        "idempotency_record",
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", name="pk_idempotency_record"),
    )

    op.create_table(
        "exchange_grant",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("fields", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_grant")),
    )
    op.create_index(
        "ix_exchange_grant_active", "exchange_grant", ["resource"], postgresql_where=sa.text("status = 'active'")
    )


def downgrade() -> None:
    op.drop_table("exchange_grant")
    op.drop_table("idempotency_record")
    op.drop_table("directory_sequence")
    op.drop_table("element_claim")
    op.drop_table("element")
    op.drop_table("resource_version")
    op.drop_table("resource")
