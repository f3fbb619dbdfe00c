"""Rules of the element vocabulary: who owns a datum.

Elements are registered implicitly: creating or changing a resource adds every element its fields name
(``element`` and ``source_element``) to the vocabulary, so there is no separate registration call.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.elements import repository
from onesource.catalog.elements.errors import NoAuthoritativeSource
from onesource.catalog.elements.schemas import Element, ElementOwner
from onesource.catalog.models import Element as ElementRow
from onesource.kit.pagination import Slice, paginate


async def owner(session: AsyncSession, element: str) -> ElementOwner:
    """The published authoritative field of ``element``; 404 when there is none."""
    claim = await repository.owner(session, element)
    if claim is None:
        raise NoAuthoritativeSource(f"no published resource is the authoritative source of element {element!r}")
    return ElementOwner(element=claim.element, resource=claim.resource_id, field=claim.field, provider=claim.provider)


async def page(session: AsyncSession, *, prefix: str | None, limit: int, cursor: str | None) -> Slice[Element]:
    """One page of the vocabulary in code order, with owners."""
    page = await paginate(
        session, repository.listed(prefix=prefix), order=[ElementRow.code], limit=limit, cursor=cursor, rows=True
    )
    elements = [Element(element=row[0], resource=row[1], field=row[2], provider=row[3]) for row in page.items]
    return Slice(items=elements, next_cursor=page.next_cursor)
