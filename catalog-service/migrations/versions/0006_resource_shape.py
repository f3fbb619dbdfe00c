"""Each resource says what shape its answers have (record, geojson, sdmx), so the gateway knows how to mask them.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("resource", sa.Column("shape", sa.Text(), server_default=sa.text("'record'"), nullable=False))
    op.create_check_constraint(op.f("ck_resource_shape_known"), "resource", "shape IN ('record', 'geojson', 'sdmx')")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_resource_shape_known"), "resource", type_="check")
    op.drop_column("resource", "shape")
