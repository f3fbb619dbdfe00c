"""Every SQL statement of the elements domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.models import Element, ElementClaim

_OWNING = and_(ElementClaim.authoritative, ElementClaim.resource_status == "published")


async def owner(session: AsyncSession, element: str) -> ElementClaim | None:
    """The published authoritative claim on ``element``."""
    return (await session.scalars(select(ElementClaim).where(ElementClaim.element == element, _OWNING))).first()


async def page(session: AsyncSession, *, prefix: str | None, after: str | None, limit: int) -> Sequence[Any]:
    """Up to ``limit`` elements in code order after ``after``, each with its owner's columns (or nulls)."""
    statement = (
        select(Element.code, ElementClaim.resource_id, ElementClaim.field, ElementClaim.provider)
        .outerjoin(ElementClaim, and_(ElementClaim.element == Element.code, _OWNING))
        .order_by(Element.code)
        .limit(limit)
    )
    if prefix is not None:
        statement = statement.where(Element.code.startswith(prefix, autoescape=True))
    if after is not None:
        statement = statement.where(Element.code > after)
    return (await session.execute(statement)).all()
