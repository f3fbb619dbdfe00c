"""Every SQL statement of the elements domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.models import Element, ElementClaim

_OWNING = and_(ElementClaim.authoritative, ElementClaim.resource_status == "published")


async def owner(session: AsyncSession, element: str) -> ElementClaim | None:
    """The published authoritative claim on ``element``."""
    return (await session.scalars(select(ElementClaim).where(ElementClaim.element == element, _OWNING))).first()


def listed(*, prefix: str | None) -> Select[Any]:
    """Elements (codes starting with ``prefix``), each with its owner's columns or nulls; the caller pages them."""
    statement = select(Element.code, ElementClaim.resource_id, ElementClaim.field, ElementClaim.provider).outerjoin(
        ElementClaim, and_(ElementClaim.element == Element.code, _OWNING)
    )
    if prefix is not None:
        statement = statement.where(Element.code.startswith(prefix, autoescape=True))
    return statement
