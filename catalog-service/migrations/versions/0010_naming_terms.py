"""Each resource keeps its name and exact-match terms apart too, small and in its row, to rank search hits cheaply.

Revision ID: 0010
Revises: 0009

A search's relevance tier (exact name, code or id; then names; then the rest) depends only on a resource's
``name:`` and ``exact=`` terms. Read from ``search`` — about 150 terms, most of them kept out of line (TOAST) —
every ranked hit cost a fetch and decompression of the whole vector per tier; ``naming`` holds only those terms
(a few dozen), is generated from ``search`` by the database (so every writer, bulk loads included, keeps it right),
and is stored in the row (``STORAGE MAIN``), so ranking reads no TOAST. The GIN index on ``search`` still finds
the matches.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE FUNCTION resource_naming_terms(search tsvector) RETURNS tsvector "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
        "SELECT array_to_tsvector(ARRAY(SELECT term FROM unnest(tsvector_to_array(search)) AS term "
        "WHERE starts_with(term, 'name:') OR starts_with(term, 'exact='))) $$"
    )
    # One statement: the storage is set before the table is rewritten to fill the generated column.
    op.execute(
        "ALTER TABLE resource ADD COLUMN naming tsvector GENERATED ALWAYS AS (resource_naming_terms(search)) STORED, "
        "ALTER COLUMN naming SET STORAGE MAIN"
    )


def downgrade() -> None:
    op.drop_column("resource", "naming")
    op.execute(sa.text("DROP FUNCTION resource_naming_terms(tsvector)"))
