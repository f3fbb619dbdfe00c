"""Resource endpoints: ``/v1/resources`` (the gateway serves them as ``/api/catalog/v1/resources``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from onesource.catalog.dependencies import SettingsDep
from onesource.catalog.resources import service
from onesource.catalog.resources.schemas import (
    ELEMENT_PATTERN,
    RESOURCE_ID_PATTERN,
    Category,
    DepartmentCode,
    Resource,
    ResourceCreate,
    ResourceUpdate,
    ResourceVersion,
    SearchPage,
    ShareType,
    Status,
)
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.concurrency import IfMatch, expected_version, set_etag
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.idempotency import idempotent
from onesource.kit.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/v1/resources", tags=["resources"])

ResourceIdPath = Annotated[str, Path(pattern=RESOURCE_ID_PATTERN, max_length=128, description="The resource id.")]


def _with_etag(response: Response, resource: Resource) -> Resource:
    set_etag(response, resource.version)
    return resource


def _optional_version(if_match: str | None) -> int | None:
    """The version ``If-Match`` names, for a lifecycle call that honours it when sent."""
    return expected_version(if_match) if if_match is not None else None


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Resource,
    responses=problem_responses(401, 403, 409, 422),
)
@idempotent(location=lambda resource: f"/v1/resources/{resource['id']}", etag_version=True)
async def register_resource(body: ResourceCreate, session: SessionDep, principal: CurrentPrincipal) -> Resource:
    """Register a resource as a draft (steward of the provider, or admin); the directory code is assigned."""
    return await service.create(session, principal, body)


@router.get("", responses=problem_responses(401, 422))
async def search_resources(
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Free text (Chinese or English) over names, summaries, fields.")
    ] = None,
    provider: Annotated[DepartmentCode | None, Query(description="Only this provider's resources.")] = None,
    category: Annotated[Category | None, Query(description="Only this category.")] = None,
    share_type: Annotated[ShareType | None, Query(description="Only this share type.")] = None,
    element: Annotated[
        str | None, Query(pattern=ELEMENT_PATTERN, max_length=128, description="Only resources naming this element.")
    ] = None,
    status: Annotated[
        Status | None, Query(description="Only this status (default: published, except for coordinators and admins).")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SearchPage:
    """Search the directory: text ranked by relevance (exact name or code, names, then the rest), filters, facets."""
    return await service.search(
        session,
        principal,
        text=q,
        provider=provider,
        category=category,
        share_type=share_type,
        element=element,
        status=status,
        limit=limit,
        cursor=cursor,
        facet_cap=settings.facet_cap,
    )


@router.get("/{resource_id}", responses=problem_responses(401, 404, 422))
async def get_resource(
    resource_id: ResourceIdPath, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> Resource:
    """One resource: published ones for any caller; drafts and retired ones for its stewards and coordinators."""
    return _with_etag(response, await service.get(session, principal, resource_id))


@router.patch("/{resource_id}", responses=problem_responses(400, 401, 403, 404, 409, 412, 422, 428))
async def change_resource(
    resource_id: ResourceIdPath,
    body: ResourceUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> Resource:
    """Change a resource at the version named by ``If-Match``; a published one emits ``resource.changed``."""
    expected = expected_version(if_match)
    return _with_etag(response, await service.update(session, principal, resource_id, body, expected))


@router.post("/{resource_id}/publish", responses=problem_responses(400, 401, 403, 404, 409, 412, 422))
async def publish_resource(
    resource_id: ResourceIdPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> Resource:
    """Publish a draft (its authoritative fields must be unclaimed); ``If-Match`` is honoured when sent."""
    expected = _optional_version(if_match)
    return _with_etag(response, await service.publish(session, principal, resource_id, expected))


@router.post("/{resource_id}/retire", responses=problem_responses(400, 401, 403, 404, 409, 412, 422))
async def retire_resource(
    resource_id: ResourceIdPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> Resource:
    """Retire a published resource once no grant on it is active; ``If-Match`` is honoured when sent."""
    expected = _optional_version(if_match)
    return _with_etag(response, await service.retire(session, principal, resource_id, expected))


@router.get("/{resource_id}/history", responses=problem_responses(401, 404, 422))
async def list_resource_versions(
    resource_id: ResourceIdPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ResourceVersion]:
    """Every version of a resource, oldest first: the document, who changed it, when and how."""
    found = await service.history(session, principal, resource_id, limit=limit, cursor=cursor)
    return Page[ResourceVersion](items=found.items, next_cursor=found.next_cursor)
