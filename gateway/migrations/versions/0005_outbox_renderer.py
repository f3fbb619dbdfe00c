"""The kit's outbox gains rows that stand for events written at publication (deferred events of bulk loads).

Revision ID: 0005
Revises: 0004
"""

from onesource.kit.migrations import outbox_renderer_v3, outbox_renderer_v3_down

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox_renderer_v3()


def downgrade() -> None:
    outbox_renderer_v3_down()
