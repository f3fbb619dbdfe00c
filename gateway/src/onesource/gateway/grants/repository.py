"""Every SQL statement of the grant read model."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.grants.models import AccessGrant
from onesource.gateway.grants.schemas import GrantDocument, GrantStatus


async def upsert(session: AsyncSession, document: GrantDocument, status: GrantStatus) -> bool:
    """Record the grant as ``document`` describes it, in ``status``; returns whether the row changed.

    Only an active grant changes: a revoked or expired grant is final, so a late or replayed ``issued`` event
    can never bring it back.
    """
    values = {
        "id": document.id,
        "department": document.department,
        "resource": document.resource,
        "provider": document.provider,
        "fields": list(document.fields),
        "purpose": document.purpose,
        "row_scope": document.row_scope,
        "valid_from": document.valid_from,
        "valid_until": document.valid_until,
        "status": status,
    }
    statement = insert(AccessGrant).values(**values)
    excluded = statement.excluded
    changed = await session.execute(
        statement.on_conflict_do_update(
            index_elements=[AccessGrant.id],
            set_={**{name: excluded[name] for name in values if name != "id"}, "updated_at": func.now()},
            where=AccessGrant.status == "active",
        ).returning(AccessGrant.id)
    )
    return changed.first() is not None


async def get(session: AsyncSession, grant_id: str) -> AccessGrant | None:
    """The grant as last recorded."""
    return await session.get(AccessGrant, grant_id)


async def active(session: AsyncSession, now: datetime) -> Sequence[AccessGrant]:
    """Grants that are active and not yet past their validity."""
    statement = select(AccessGrant).where(AccessGrant.status == "active", AccessGrant.valid_until > now)
    return (await session.scalars(statement)).all()


async def by_ids(session: AsyncSession, ids: Collection[str]) -> Sequence[AccessGrant]:
    """The rows of ``ids`` that exist, whatever their status."""
    statement = select(AccessGrant).where(AccessGrant.id.in_(list(ids)))
    return (await session.scalars(statement)).all()
