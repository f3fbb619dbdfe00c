"""Persons, their versions, and bulk imports with their error reports.

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
        "person",
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("former_names", postgresql.ARRAY(sa.String(64)), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("ethnicity", sa.String(2), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("birthplace_code", sa.String(6), nullable=False),
        sa.Column("household_region_code", sa.String(6), nullable=False),
        sa.Column("household_address", sa.String(200), nullable=True),
        sa.Column("marital_status", sa.String(2), nullable=True),
        sa.Column("education", sa.String(2), nullable=True),
        sa.Column("household_id", sa.String(32), nullable=True),
        sa.Column("relationship_to_head", sa.String(2), nullable=True),
        sa.Column("deceased", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("char_length(id_number) = 18", name=op.f("ck_person_id_number_length")),
        sa.CheckConstraint("sex IN ('1', '2')", name=op.f("ck_person_sex_from_id_number")),
        sa.CheckConstraint("deceased = (death_date IS NOT NULL)", name=op.f("ck_person_death_date_iff_deceased")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_person_version_positive")),
        sa.PrimaryKeyConstraint("id_number", name=op.f("pk_person")),
    )
    op.create_index("ix_person_name", "person", ["name"], postgresql_ops={"name": "text_pattern_ops"})
    op.create_index(
        "ix_person_household_region_code",
        "person",
        ["household_region_code"],
        postgresql_ops={"household_region_code": "text_pattern_ops"},
    )
    op.create_index("ix_person_birth_date", "person", ["birth_date"])
    op.create_table(
        "person_version",
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("changes", postgresql.JSONB(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("import_id", sa.UUID(), nullable=True),
        sa.PrimaryKeyConstraint("id_number", "version", name="pk_person_version"),
    )
    op.create_table(
        "person_import",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("accepted", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("rejected", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("failure", sa.String(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_import")),
    )
    op.create_table(
        "person_import_error",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("import_id", sa.UUID(), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("id_number", sa.String(32), nullable=True),
        sa.Column("field", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["person_import.id"],
            name=op.f("fk_person_import_error_import_id_person_import"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_import_error")),
    )
    op.create_index("ix_person_import_error_import_id_line", "person_import_error", ["import_id", "line"])


def downgrade() -> None:
    op.drop_table("person_import_error")
    op.drop_table("person_import")
    op.drop_table("person_version")
    op.drop_table("person")
