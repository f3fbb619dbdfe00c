"""Registrations accept ``Idempotency-Key``: the first answer of each key, per client (the kit's store).

The record keeps the first answer, a person as registered, in the registry's own database beside the person.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from onesource.kit.migrations import create_idempotency_record_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_record_table()


def downgrade() -> None:
    op.drop_table("idempotency_record")
