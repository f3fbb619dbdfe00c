"""The audit log: hash-chained entries, the chain head and signed checkpoints.

The entries and checkpoints are append-only: row triggers refuse UPDATE and DELETE, statement triggers refuse
TRUNCATE, and the head may only move forward. (A database superuser can still disable triggers; that is what the
hash chain and the signed checkpoints detect.)

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

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=True),
        sa.Column("department", sa.Text(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("latency_us", sa.BigInteger(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("resources", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("grant_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("record_keys", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("fields", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("prev_hash", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.CheckConstraint("seq > 0", name="ck_audit_entry_seq_positive"),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entry"),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single_row"),
        sa.CheckConstraint("seq >= 0", name="ck_audit_head_seq_not_negative"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.execute(f"INSERT INTO audit_head (id, seq, hash, updated_at) VALUES (1, 0, '{GENESIS_HASH}', now())")
    op.create_table(
        "audit_checkpoint",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kid", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_checkpoint"),
    )
    # "Who read this record": every (resource, key) pair of an entry, as ``resource || U+001F || key`` (resource ids
    # are slugs, so the first separator splits the pair). IMMUTABLE, as an index expression must be.
    op.execute(
        """
        CREATE FUNCTION audit_record_refs(resources text[], record_keys text[]) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$
            SELECT coalesce(array_agg(r || chr(31) || k), '{}')
            FROM unnest(resources) AS r CROSS JOIN unnest(record_keys) AS k
        $$
        """
    )
    op.execute(
        "CREATE INDEX ix_audit_entry_record_refs ON audit_entry USING gin (audit_record_refs(resources, record_keys))"
    )
    op.execute(
        """
        CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% on % refused: the audit log is append-only', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.seq < OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash <> OLD.hash) THEN
                RAISE EXCEPTION 'audit head may only move forward (from % to %)', OLD.seq, NEW.seq
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    for table in ("audit_entry", "audit_checkpoint"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )
    for table in ("audit_entry", "audit_checkpoint", "audit_head"):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        )
    op.execute(
        "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()"
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoint")
    op.drop_table("audit_head")
    op.drop_table("audit_entry")
    op.execute("DROP FUNCTION audit_head_forward_only()")
    op.execute("DROP FUNCTION audit_refuse_change()")
    op.execute("DROP FUNCTION audit_record_refs(text[], text[])")
