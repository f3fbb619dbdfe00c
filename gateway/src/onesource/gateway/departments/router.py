"""Department endpoints: ``/api/identity/v1/departments``."""

from __future__ import annotations

from fastapi import APIRouter, status

from onesource.gateway.departments import service
from onesource.gateway.departments.schemas import Department, DepartmentCode, DepartmentCreate
from onesource.gateway.dependencies import AdminDep
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.idempotency import idempotent
from onesource.kit.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/api/identity/v1/departments", tags=["departments"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Department,
    responses=problem_responses(401, 403, 409, 422),
)
@idempotent()
async def register_department(body: DepartmentCreate, session: SessionDep, admin: AdminDep) -> Department:
    """Register a department (admin); its USCC is checked against GB 32100-2015."""
    department = Department.model_validate(await service.register(session, body))
    return department


@router.get("", responses=problem_responses(401, 422))
async def list_departments(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> Page[Department]:
    """List departments in code order (any authenticated caller)."""
    found = await service.page(session, limit=limit, cursor=cursor)
    return Page[Department].model_validate(found, from_attributes=True)


@router.get("/{code}", responses=problem_responses(401, 404, 422))
async def get_department(code: DepartmentCode, session: SessionDep, principal: CurrentPrincipal) -> Department:
    """One department by its code (any authenticated caller)."""
    return Department.model_validate(await service.get(session, code))
