"""A person registered by a bulk import keeps its first version in its own row until it first changes.

A bulk import used to write, for every person, a ``person_version`` row holding the whole record again as JSON —
as much database work as the person row itself. That row only repeats what the person row holds while the
person is unchanged, and who imported it is the import's. So an imported person now names its import in
``person.import_id``, and its first version is read from the person row and the import (``person_import`` now
also keeps the request id) until the first update or death writes it out, just before the second version.
Persons imported before this revision keep their written first versions (``import_id`` stays null for them).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: The record as ``persons.service.record_of`` writes it (JSON-ready: dates as ISO text), built in SQL.
_RECORD = """jsonb_build_object(
    'id_number', p.id_number, 'name', p.name, 'former_names', to_jsonb(p.former_names), 'sex', p.sex,
    'ethnicity', p.ethnicity, 'birth_date', to_jsonb(p.birth_date), 'birthplace_code', p.birthplace_code,
    'household_region_code', p.household_region_code, 'household_address', p.household_address,
    'marital_status', p.marital_status, 'education', p.education, 'household_id', p.household_id,
    'relationship_to_head', p.relationship_to_head, 'deceased', p.deceased, 'death_date', to_jsonb(p.death_date)
)"""


def upgrade() -> None:
    op.add_column("person", sa.Column("import_id", sa.UUID(), nullable=True))
    op.add_column("person_import", sa.Column("request_id", sa.String(64), nullable=True))


def downgrade() -> None:
    # Write out the first versions that still live in person rows, or the history would lose them.
    op.execute(
        f"""
        INSERT INTO person_version
            (id_number, version, change, changes, recorded_at, recorded_by, department, request_id, import_id)
        SELECT p.id_number, 1, 'registered', {_RECORD}, p.created_at, i.client_id, i.department, i.request_id,
               p.import_id
        FROM person AS p JOIN person_import AS i ON i.id = p.import_id
        WHERE p.version = 1
        ON CONFLICT DO NOTHING
        """
    )
    op.drop_column("person_import", "request_id")
    op.drop_column("person", "import_id")
