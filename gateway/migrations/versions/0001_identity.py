"""Identity: departments, clients, signing keys, idempotency records; and the kit's outbox and inbox tables.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from onesource.kit.migrations import create_kit_tables_v1, drop_kit_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables_v1()
    op.create_table(
        "department",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("uscc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(r"code ~ '^[a-z][a-z0-9-]{1,31}$'", name="ck_department_code_format"),
        sa.PrimaryKeyConstraint("code", name="pk_department"),
        sa.UniqueConstraint("uscc", name="uq_department_uscc"),
    )
    op.create_table(
        "client",
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(r"client_id ~ '^[a-z0-9][a-z0-9-]{2,63}$'", name="ck_client_client_id_format"),
        sa.ForeignKeyConstraint(["department"], ["department.code"], name="fk_client_department_department"),
        sa.PrimaryKeyConstraint("client_id", name="pk_client"),
    )
    op.create_index("ix_client_department", "client", ["department", "client_id"])
    op.create_table(
        "signing_key",
        sa.Column("kid", sa.Text(), nullable=False),
        sa.Column("algorithm", sa.Text(), server_default=sa.text("'EdDSA'"), nullable=False),
        sa.Column("public_jwk", postgresql.JSONB(), nullable=False),
        sa.Column("private_key_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name="pk_signing_key"),
    )
    op.create_index("uq_signing_key_active", "signing_key", ["active"], unique=True, postgresql_where=sa.text("active"))
    op.create_table(
        "idempotency_record",
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", name="pk_idempotency_record"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_record")
    op.drop_index("uq_signing_key_active", table_name="signing_key")
    op.drop_table("signing_key")
    op.drop_index("ix_client_department", table_name="client")
    op.drop_table("client")
    op.drop_table("department")
    drop_kit_tables_v1()
