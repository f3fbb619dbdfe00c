"""Data element endpoints: ``/v1/elements`` — the vocabulary and who owns each datum."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from onesource.catalog.elements import service
from onesource.catalog.elements.schemas import Element, ElementOwner
from onesource.catalog.resources.schemas import ELEMENT_PATTERN
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/v1/elements", tags=["elements"])


@router.get("", responses=problem_responses(401, 422))
async def list_elements(
    session: SessionDep,
    principal: CurrentPrincipal,
    prefix: Annotated[
        str | None, Query(max_length=128, pattern=r"^[a-z0-9_.]+$", description="Only codes starting with this.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[Element]:
    """The element vocabulary in code order, each with its authoritative owner (if published)."""
    found = await service.page(session, prefix=prefix, limit=limit, cursor=cursor)
    return Page[Element](items=found.items, next_cursor=found.next_cursor)


@router.get("/{element}", responses=problem_responses(401, 404, 422))
async def get_element_owner(
    element: Annotated[str, Path(pattern=ELEMENT_PATTERN, max_length=128, description="The element code.")],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ElementOwner:
    """Who owns a datum: the published authoritative resource, field and provider of an element."""
    return await service.owner(session, element)
