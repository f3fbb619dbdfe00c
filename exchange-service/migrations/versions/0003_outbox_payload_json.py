"""The kit's outbox stores event payloads as json rather than jsonb: written once and read once as text.

Revision ID: 0003
Revises: 0002
"""

from onesource.kit.migrations import outbox_payload_json_v2, outbox_payload_jsonb_v2_down

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox_payload_json_v2()


def downgrade() -> None:
    outbox_payload_jsonb_v2_down()
