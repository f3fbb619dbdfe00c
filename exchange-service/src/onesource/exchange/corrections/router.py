"""Correction endpoints (校核): ``/v1/corrections``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from onesource.exchange.corrections import service
from onesource.exchange.corrections.schemas import Correction, CorrectionAnswer, CorrectionCreate, CorrectionStatus
from onesource.exchange.dependencies import CatalogDep, ConsumerDep, StewardDep
from onesource.exchange.resources import service as resources
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.idempotency import idempotent
from onesource.kit.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/v1/corrections", tags=["corrections"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Correction,
    responses=problem_responses(401, 403, 404, 422, 503),
)
@idempotent()
async def report_correction(
    body: CorrectionCreate,
    session: SessionDep,
    principal: ConsumerDep,
    catalog: CatalogDep,
) -> Correction:
    """Report a suspect datum to its owner (a consumer holding a grant covering the field)."""
    resource = await resources.find(session, body.resource, catalog)
    answer = Correction.model_validate(await service.report(session, principal, body, resource, datetime.now(UTC)))
    return answer


@router.get("", responses=problem_responses(401, 403, 422))
async def list_corrections(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Annotated[CorrectionStatus | None, Query(description="Only reports in this status.")] = None,
    resource: Annotated[str | None, Query(max_length=200, description="Only reports about this resource.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[Correction]:
    """Reports the caller may see: its department's own, or those about its resources (stewards)."""
    found = await service.page(session, principal, status=status, resource=resource, limit=limit, cursor=cursor)
    return Page[Correction].model_validate(found, from_attributes=True)


@router.get("/{correction_id}", responses=problem_responses(401, 403, 404))
async def get_correction(correction_id: str, session: SessionDep, principal: CurrentPrincipal) -> Correction:
    """One report."""
    return Correction.model_validate(await service.get(session, principal, correction_id))


@router.post("/{correction_id}/resolve", responses=problem_responses(401, 403, 404, 409, 422))
async def resolve_correction(
    correction_id: str, body: CorrectionAnswer, session: SessionDep, principal: StewardDep
) -> Correction:
    """The owner's steward marks the datum corrected (the registry's change event carries the fix)."""
    return Correction.model_validate(
        await service.answer(session, principal, correction_id, resolve=True, note=body.note, now=datetime.now(UTC))
    )


@router.post("/{correction_id}/dismiss", responses=problem_responses(401, 403, 404, 409, 422))
async def dismiss_correction(
    correction_id: str, body: CorrectionAnswer, session: SessionDep, principal: StewardDep
) -> Correction:
    """The owner's steward dismisses the report with a note."""
    return Correction.model_validate(
        await service.answer(session, principal, correction_id, resolve=False, note=body.note, now=datetime.now(UTC))
    )
