"""Exchange: catalog read model, share requests and their history, grants, subscriptions, deliveries, corrections.

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

TEXT_ARRAY = postgresql.ARRAY(sa.Text())


def upgrade() -> None:
    op.create_table(
        "catalog_resource",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("share_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("field_names", TEXT_ARRAY, nullable=False),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_resource"),
    )
    op.create_index("ix_catalog_resource_topic", "catalog_resource", ["topic"])

    op.create_table(
        "share_request",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("fields", TEXT_ARRAY, nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("row_scope", postgresql.JSONB(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_fields", TEXT_ARRAY, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("dispute_reason", sa.Text(), nullable=True),
        sa.Column("grant_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending_provider', 'pending_confirmation', 'granted', 'rejected', 'disputed', "
            "'refused', 'upheld')",
            name="ck_share_request_status_known",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_share_request"),
    )
    op.create_index("ix_share_request_consumer", "share_request", ["consumer", "id"])
    op.create_index("ix_share_request_provider", "share_request", ["provider", "id"])
    op.create_index(
        "ix_share_request_due", "share_request", ["due_at"], postgresql_where=sa.text("status = 'pending_provider'")
    )

    op.create_table(
        "share_request_transition",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("share_request_id", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=True),
        sa.Column("to_status", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_department", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_request_id"],
            ["share_request.id"],
            name="fk_share_request_transition_share_request_id_share_request",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_share_request_transition"),
    )
    op.create_index("ix_share_request_transition_request", "share_request_transition", ["share_request_id", "id"])

    op.create_table(
        "access_grant",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("share_request_id", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("fields", TEXT_ARRAY, nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("row_scope", postgresql.JSONB(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("revoked_by", sa.Text(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'revoked', 'expired')", name="ck_access_grant_status_known"),
        sa.ForeignKeyConstraint(
            ["share_request_id"], ["share_request.id"], name="fk_access_grant_share_request_id_share_request"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_access_grant"),
        sa.UniqueConstraint("share_request_id", name="uq_access_grant_share_request_id"),
    )
    op.create_index("ix_access_grant_department", "access_grant", ["department", "resource"])
    op.create_index("ix_access_grant_provider", "access_grant", ["provider", "id"])
    op.create_index(
        "ix_access_grant_expiry", "access_grant", ["valid_until"], postgresql_where=sa.text("status = 'active'")
    )

    op.create_table(
        "subscription",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("grant_id", sa.Text(), nullable=False),
        sa.Column("delivery", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("delivery IN ('feed', 'kafka')", name="ck_subscription_delivery_known"),
        sa.CheckConstraint("status IN ('active', 'cancelled')", name="ck_subscription_status_known"),
        sa.ForeignKeyConstraint(["grant_id"], ["access_grant.id"], name="fk_subscription_grant_id_access_grant"),
        sa.PrimaryKeyConstraint("id", name="pk_subscription"),
    )
    op.create_index("ix_subscription_department", "subscription", ["department", "id"])
    op.create_index(
        "ix_subscription_resource", "subscription", ["resource"], postgresql_where=sa.text("status = 'active'")
    )
    op.create_index(
        "uq_subscription_kafka",
        "subscription",
        ["department", "resource"],
        unique=True,
        postgresql_where=sa.text("status = 'active' AND delivery = 'kafka'"),
    )

    op.create_table(
        "delivery",
        sa.Column("subscription_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("source_event_id", sa.Text(), nullable=False),
        sa.Column("grant_id", sa.Text(), nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("event", postgresql.JSONB(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["subscription.id"], name="fk_delivery_subscription_id_subscription"
        ),
        sa.PrimaryKeyConstraint("subscription_id", "seq", name="pk_delivery"),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_delivery_subscription_id"),
    )

    op.create_table(
        "correction",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("reported_value", postgresql.JSONB(), nullable=True),
        sa.Column("suggested_value", postgresql.JSONB(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reporter_department", sa.Text(), nullable=False),
        sa.Column("reported_by", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'resolved', 'dismissed')", name="ck_correction_status_known"),
        sa.PrimaryKeyConstraint("id", name="pk_correction"),
    )
    op.create_index("ix_correction_provider", "correction", ["provider", "id"])
    op.create_index("ix_correction_reporter", "correction", ["reporter_department", "id"])

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


def downgrade() -> None:
    for table in (
        "idempotency_record",
        "correction",
        "delivery",
        "subscription",
        "access_grant",
        "share_request_transition",
        "share_request",
        "catalog_resource",
    ):
        op.drop_table(table)
