"""Share request endpoints: ``/v1/share-requests``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from onesource.exchange.dependencies import (
    CalendarDep,
    CatalogDep,
    ConsumerDep,
    CoordinatorDep,
    SettingsDep,
    StewardDep,
)
from onesource.exchange.resources import service as resources
from onesource.exchange.share_requests import service
from onesource.exchange.share_requests.schemas import (
    Decision,
    Dispute,
    Mediation,
    ShareRequest,
    ShareRequestCreate,
    ShareRequestDetail,
    ShareRequestStatus,
    Transition,
)
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.idempotency import idempotent
from onesource.kit.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/v1/share-requests", tags=["share-requests"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ShareRequest,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
@idempotent()
async def submit_share_request(
    body: ShareRequestCreate,
    session: SessionDep,
    principal: ConsumerDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    catalog: CatalogDep,
) -> ShareRequest:
    """Ask for fields of a resource (consumer): granted at once, refused, or pending the provider's answer."""
    resource = await resources.shareable(session, body.resource, catalog)
    request = await service.submit(
        session, principal, body, resource, settings=settings, calendar=calendar, now=datetime.now(UTC)
    )
    answer = ShareRequest.model_validate(request)
    return answer


@router.get("", responses=problem_responses(401, 403, 422))
async def list_share_requests(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Annotated[ShareRequestStatus | None, Query(description="Only requests in this status.")] = None,
    overdue: Annotated[bool | None, Query(description="Only overdue (or only not overdue) requests.")] = None,
    resource: Annotated[str | None, Query(max_length=200, description="Only requests for this resource.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ShareRequest]:
    """Requests the caller may see: consumers their own, stewards those for their resources, coordinators all."""
    found = await service.page(
        session, principal, status=status, overdue=overdue, resource=resource, limit=limit, cursor=cursor
    )
    return Page[ShareRequest].model_validate(found, from_attributes=True)


@router.get("/{request_id}", responses=problem_responses(401, 403, 404))
async def get_share_request(request_id: str, session: SessionDep, principal: CurrentPrincipal) -> ShareRequestDetail:
    """One share request with its full history."""
    request, history = await service.get(session, principal, request_id)
    return ShareRequestDetail.model_validate(
        {
            **ShareRequest.model_validate(request).model_dump(),
            "history": [Transition.model_validate(step) for step in history],
        }
    )


@router.post("/{request_id}/decision", responses=problem_responses(401, 403, 404, 409, 422))
async def decide_share_request(
    request_id: str, body: Decision, session: SessionDep, principal: StewardDep
) -> ShareRequest:
    """The provider's steward approves (possibly fewer fields) or rejects with a reason."""
    return ShareRequest.model_validate(await service.decide(session, principal, request_id, body, datetime.now(UTC)))


@router.post("/{request_id}/confirm", responses=problem_responses(401, 403, 404, 409))
async def confirm_share_request(request_id: str, session: SessionDep, principal: CoordinatorDep) -> ShareRequest:
    """A coordinator confirms the provider's approval; the grant is issued."""
    return ShareRequest.model_validate(await service.confirm(session, principal, request_id, datetime.now(UTC)))


@router.post("/{request_id}/dispute", responses=problem_responses(401, 403, 404, 409, 422))
async def dispute_share_request(
    request_id: str, body: Dispute, session: SessionDep, principal: ConsumerDep
) -> ShareRequest:
    """The requesting department disputes a rejection, for a coordinator to mediate."""
    return ShareRequest.model_validate(await service.dispute(session, principal, request_id, body, datetime.now(UTC)))


@router.post("/{request_id}/mediate", responses=problem_responses(401, 403, 404, 409, 422))
async def mediate_share_request(
    request_id: str, body: Mediation, session: SessionDep, principal: CoordinatorDep
) -> ShareRequest:
    """A coordinator rules on a disputed rejection: grant (possibly fewer fields) or uphold it."""
    return ShareRequest.model_validate(await service.mediate(session, principal, request_id, body, datetime.now(UTC)))
