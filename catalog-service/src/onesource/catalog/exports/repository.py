"""Every SQL statement of the exports domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.models import Resource


async def published(session: AsyncSession, *, after: str | None, limit: int | None) -> Sequence[Resource]:
    """Published resources in id order, after ``after``, at most ``limit`` (all without one)."""
    statement = select(Resource).where(Resource.status == "published").order_by(Resource.id)
    if after is not None:
        statement = statement.where(Resource.id > after)
    if limit is not None:
        statement = statement.limit(limit)
    return (await session.scalars(statement)).all()
