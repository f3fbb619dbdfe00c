"""Search terms for relevance: every resource's terms gain its code's words and the name and exact-match markers.

Revision ID: 0008
Revises: 0007

The terms are made by the catalog's own tokenizer (``resources.search``), as when a resource is written, so this
migration computes them in Python, a batch of resources at a time.
"""

import json

import sqlalchemy as sa
from alembic import op

from onesource.catalog.resources.search import resource_terms

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 1_000


def upgrade() -> None:
    connection = op.get_bind()
    after = ""
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT id, code, name, summary, fields, provider, category, share_type, status, elements "
                "FROM resource WHERE id > :after ORDER BY id LIMIT :batch"
            ),
            {"after": after, "batch": BATCH},
        ).all()
        if not rows:
            return
        for row in rows:
            fields = row.fields if isinstance(row.fields, list) else json.loads(row.fields)
            terms = resource_terms(
                resource_id=row.id,
                code=row.code,
                name=row.name,
                summary=row.summary,
                fields=[(field["name"], field.get("description", "")) for field in fields],
                attributes={
                    "provider": row.provider,
                    "category": row.category,
                    "share_type": row.share_type,
                    "status": row.status,
                },
                elements=row.elements,
            )
            connection.execute(
                sa.text("UPDATE resource SET search = array_to_tsvector(CAST(:terms AS text[])) WHERE id = :id"),
                {"terms": terms, "id": row.id},
            )
        after = rows[-1].id


def downgrade() -> None:
    # The extra terms match nothing the earlier search asks for; they may stay.
    pass
