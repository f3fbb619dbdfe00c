"""An entity registered by a bulk import keeps its first version in its own row until it first changes.

A bulk import wrote, for every entity, an ``entity_version`` row holding the whole record again as JSON — about a
third more database work than the entity row itself, for a row that only repeats what the entity row holds while
the entity is unchanged (who imported it is the import's). So an imported entity now names its import in
``entity.import_id``, and its first version is read from the entity row and the import until the first update or
status change writes it out, just before the second version (as population's persons since its revision 0003).
Entities imported before this revision keep their written first versions (``import_id`` stays null for them).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: The record as ``registry.records.RecordKind.record_of`` writes it (JSON-ready: dates as ISO text), in SQL.
_RECORD = """jsonb_build_object(
    'uscc', e.uscc, 'name', e.name, 'former_names', to_jsonb(e.former_names), 'entity_type', e.entity_type,
    'legal_representative_id', e.legal_representative_id, 'established_on', to_jsonb(e.established_on),
    'registered_capital', e.registered_capital, 'business_scope', e.business_scope, 'status', e.status,
    'status_reason', e.status_reason, 'status_effective_on', to_jsonb(e.status_effective_on),
    'registration_authority', e.registration_authority, 'region_code', e.region_code,
    'industry_code', e.industry_code, 'industry_section', e.industry_section, 'address', e.address,
    'operating_until', to_jsonb(e.operating_until)
)"""


def upgrade() -> None:
    op.add_column("entity", sa.Column("import_id", sa.UUID(), nullable=True))


def downgrade() -> None:
    # Write out the first versions that still live in entity rows, or the history would lose them.
    op.execute(
        f"""
        INSERT INTO entity_version (uscc, version, change, changes, recorded_at, recorded_by, department, request_id)
        SELECT e.uscc, 1, 'registered', {_RECORD}, e.created_at, i.client_id, i.department, i.request_id
        FROM entity AS e JOIN entity_import AS i ON i.id = e.import_id
        WHERE e.version = 1
        ON CONFLICT DO NOTHING
        """
    )
    op.drop_column("entity", "import_id")
