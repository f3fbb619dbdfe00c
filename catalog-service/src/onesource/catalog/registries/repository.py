"""Every SQL statement of the registries domain."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.models import Registry


async def get(session: AsyncSession, service: str, *, for_update: bool = False) -> Registry | None:
    """The registry ``service`` (locked for the transaction with ``for_update``)."""
    statement = select(Registry).where(Registry.service == service)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


def listed() -> Select[tuple[Registry]]:
    """Every registry (the caller orders and pages them)."""
    return select(Registry)


def add(session: AsyncSession, registry: Registry) -> None:
    """Hold a new registry (written at the next flush)."""
    session.add(registry)
