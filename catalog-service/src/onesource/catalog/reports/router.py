"""Report endpoints: ``/v1/reports``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from onesource.catalog.reports import service
from onesource.catalog.reports.schemas import CopiedField
from onesource.catalog.resources.schemas import DepartmentCode
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get("/re-collection", responses=problem_responses(401, 403, 422))
async def get_recollection_report(
    session: SessionDep,
    principal: CurrentPrincipal,
    department: Annotated[DepartmentCode | None, Query(description="Only this department's copies.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CopiedField]:
    """Fields that copy an element, by department, resource and field (coordinators; stewards: their own)."""
    found = await service.recollection(session, principal, department, limit=limit, cursor=cursor)
    return Page[CopiedField](items=found.items, next_cursor=found.next_cursor)
