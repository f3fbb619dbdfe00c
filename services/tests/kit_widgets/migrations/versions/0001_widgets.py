"""Kit tables and the widget table.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from onesource.kit.migrations import create_kit_tables_v1, drop_kit_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables_v1()
    op.create_table(
        "widget",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("colour", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("widget")
    drop_kit_tables_v1()
