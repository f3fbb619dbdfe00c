"""The kit's outbox stores event payloads as json rather than jsonb: written once and read once as text.

Revision ID: 0002
Revises: 0001
"""

from onesource.kit.migrations import outbox_payload_json_v2, outbox_payload_jsonb_v2_down

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox_payload_json_v2()


def downgrade() -> None:
    outbox_payload_jsonb_v2_down()
