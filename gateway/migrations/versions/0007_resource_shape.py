"""The resource read model keeps each resource's answer shape (record, geojson, sdmx): how to mask its answers.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("catalog_resource", sa.Column("shape", sa.Text(), server_default=sa.text("'record'"), nullable=False))


def downgrade() -> None:
    op.drop_column("catalog_resource", "shape")
