"""Every SQL statement of the grants read model."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.grants.schemas import GrantData
from onesource.catalog.models import ExchangeGrant

#: A grant in one of these statuses is over for good; a late or replayed "issued" must not revive it.
FINAL = ("revoked", "expired")


async def upsert(session: AsyncSession, grant: GrantData, status: str) -> None:
    """Record the grant in ``status``, unless it already ended."""
    values = {
        "id": grant.id,
        "resource": grant.resource,
        "department": grant.department,
        "fields": grant.fields,
        "purpose": grant.purpose,
        "valid_from": grant.valid_from,
        "valid_until": grant.valid_until,
        "status": status,
    }
    statement = insert(ExchangeGrant).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ExchangeGrant.id],
            set_={**{name: statement.excluded[name] for name in values if name != "id"}, "updated_at": func.now()},
            where=ExchangeGrant.status.not_in(FINAL),
        )
    )
