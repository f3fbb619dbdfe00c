"""Grant endpoints: ``/v1/grants``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from onesource.exchange.dependencies import RevokerDep
from onesource.exchange.grants import service
from onesource.exchange.grants.schemas import Grant, GrantStatus, Revocation
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/v1/grants", tags=["grants"])


@router.get("", responses=problem_responses(401, 403, 422))
async def list_grants(
    session: SessionDep,
    principal: CurrentPrincipal,
    resource: Annotated[str | None, Query(max_length=200, description="Only grants on this resource.")] = None,
    status: Annotated[GrantStatus | None, Query(description="Only grants in this status.")] = None,
    department: Annotated[str | None, Query(max_length=64, description="Only grants of this department.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[Grant]:
    """Grants the caller may see: consumers their own, stewards those on their resources, coordinators all."""
    found = await service.page(
        session, principal, resource=resource, status=status, department=department, limit=limit, cursor=cursor
    )
    return Page[Grant].model_validate(found, from_attributes=True)


@router.get("/{grant_id}", responses=problem_responses(401, 403, 404))
async def get_grant(grant_id: str, session: SessionDep, principal: CurrentPrincipal) -> Grant:
    """One grant."""
    return Grant.model_validate(await service.get(session, principal, grant_id))


@router.post("/{grant_id}/revoke", responses=problem_responses(401, 403, 404, 409, 422))
async def revoke_grant(grant_id: str, body: Revocation, session: SessionDep, principal: RevokerDep) -> Grant:
    """Revoke a grant (the provider's steward, a coordinator or an admin); delivery under it stops at once."""
    return Grant.model_validate(await service.revoke(session, principal, grant_id, body.reason, datetime.now(UTC)))
