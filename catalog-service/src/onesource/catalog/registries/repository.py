"""Every SQL statement of the registries domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.models import Registry


async def get(session: AsyncSession, service: str, *, for_update: bool = False) -> Registry | None:
    """The registry ``service`` (locked for the transaction with ``for_update``)."""
    statement = select(Registry).where(Registry.service == service)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


async def page(session: AsyncSession, *, after: str | None, limit: int) -> Sequence[Registry]:
    """Up to ``limit`` registries in service order, after ``after``."""
    statement = select(Registry).order_by(Registry.service).limit(limit)
    if after is not None:
        statement = statement.where(Registry.service > after)
    return (await session.scalars(statement)).all()


def add(session: AsyncSession, registry: Registry) -> None:
    """Hold a new registry (written at the next flush)."""
    session.add(registry)
