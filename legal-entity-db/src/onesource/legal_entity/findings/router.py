"""The findings report: ``/v1/findings``, for the owning department's stewards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.pagination import Cursor, Limit, Page
from onesource.legal_entity.findings import service
from onesource.legal_entity.findings.schemas import Finding
from onesource.registry.access import OwnerDep

router = APIRouter(prefix="/v1/findings", tags=["findings"])


@router.get("", responses=problem_responses(401, 403, 422))
async def list_findings(
    session: SessionDep,
    owner: OwnerDep,
    include_closed: Annotated[
        bool, Query(description="Also entities that are deregistered, cancelled or moved out.")
    ] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[Finding]:
    """Entities whose legal representative population-db reports deceased, in USCC order (owner only)."""
    found = await service.page(session, include_closed=include_closed, limit=limit, cursor=cursor)
    return Page[Finding].model_validate(found, from_attributes=True)
