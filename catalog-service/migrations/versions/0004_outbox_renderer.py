"""The kit's outbox gains rows that stand for events written at publication (deferred events of bulk loads).

Revision ID: 0004
Revises: 0003
"""

from onesource.kit.migrations import outbox_renderer_v3, outbox_renderer_v3_down

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox_renderer_v3()


def downgrade() -> None:
    outbox_renderer_v3_down()
