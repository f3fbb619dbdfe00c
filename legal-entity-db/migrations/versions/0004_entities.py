"""Entities, their versions, bulk imports with their error reports, representatives' deaths, idempotency records.

The name search is index-backed for any Chinese substring: ``entity_name_grams(name)`` is every character and every
two adjacent characters of a name, under a GIN index; a search for a substring asks for names holding all its grams
(then ``LIKE`` keeps those holding it in one piece). pg_trgm would need a locale that counts CJK characters as
letters (under the C locale it makes no trigrams of them) and three characters where Chinese names use two.

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

NAME_GRAMS = """
CREATE FUNCTION entity_name_grams(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM (
        SELECT substr(name, position, 1) AS gram FROM generate_series(1, char_length(name)) AS position
        UNION ALL
        SELECT substr(name, position, 2) FROM generate_series(1, char_length(name) - 1) AS position
    ) AS grams
$$
"""


def upgrade() -> None:
    op.execute(NAME_GRAMS)
    op.create_table(
        "entity",
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("former_names", postgresql.ARRAY(sa.String(200)), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("entity_type", sa.String(4), nullable=False),
        sa.Column("legal_representative_id", sa.String(18), nullable=False),
        sa.Column("established_on", sa.Date(), nullable=False),
        sa.Column("registered_capital", postgresql.JSONB(), nullable=True),
        sa.Column("business_scope", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), server_default=sa.text("'active'"), nullable=False),
        sa.Column("status_reason", sa.String(500), nullable=True),
        sa.Column("status_effective_on", sa.Date(), nullable=True),
        sa.Column("registration_authority", sa.String(200), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("industry_code", sa.String(4), nullable=False),
        sa.Column("industry_section", sa.String(1), nullable=False),
        sa.Column("address", sa.String(400), nullable=False),
        sa.Column("operating_until", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("char_length(uscc) = 18", name=op.f("ck_entity_uscc_length")),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'revoked', 'deregistered', 'cancelled', 'moved_out')",
            name=op.f("ck_entity_status_known"),
        ),
        sa.CheckConstraint("industry_section ~ '^[A-T]$'", name=op.f("ck_entity_industry_section_letter")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_entity_version_positive")),
        sa.PrimaryKeyConstraint("uscc", name=op.f("pk_entity")),
    )
    op.execute("CREATE INDEX ix_entity_name_grams ON entity USING gin (entity_name_grams(name))")
    op.create_index(
        "ix_entity_region_code", "entity", ["region_code"], postgresql_ops={"region_code": "text_pattern_ops"}
    )
    op.create_index(
        "ix_entity_industry_code", "entity", ["industry_code"], postgresql_ops={"industry_code": "text_pattern_ops"}
    )
    op.create_index("ix_entity_industry_section", "entity", ["industry_section"])
    op.create_index("ix_entity_status", "entity", ["status"])
    op.create_index("ix_entity_established_on", "entity", ["established_on"])
    op.create_index("ix_entity_legal_representative_id", "entity", ["legal_representative_id"])
    op.create_table(
        "entity_version",
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("changes", postgresql.JSONB(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("uscc", "version", name="pk_entity_version"),
    )
    op.create_table(
        "entity_import",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("accepted", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("rejected", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("failure", sa.String(), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_import")),
    )
    op.create_table(
        "entity_import_error",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("import_id", sa.UUID(), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(64), nullable=True),
        sa.Column("field", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["entity_import.id"],
            name=op.f("fk_entity_import_error_import_id_entity_import"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_import_error")),
    )
    op.create_index("ix_entity_import_error_import_id_line", "entity_import_error", ["import_id", "line"])
    op.create_table(
        "representative_death",
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("noticed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id_number", name=op.f("pk_representative_death")),
    )
    create_idempotency_record_table()


def downgrade() -> None:
    op.drop_table("idempotency_record")
    op.drop_table("representative_death")
    op.drop_table("entity_import_error")
    op.drop_table("entity_import")
    op.drop_table("entity_version")
    op.drop_table("entity")
    op.execute("DROP FUNCTION entity_name_grams(text)")
