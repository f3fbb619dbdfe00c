"""Registry endpoints: ``/v1/registries`` (the gateway serves them as ``/api/catalog/v1/registries``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response, status

from onesource.catalog.dependencies import AdminDep
from onesource.catalog.registries import service
from onesource.catalog.registries.schemas import Registry, RegistryAssignment
from onesource.catalog.resources.schemas import SERVICE_PATTERN
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.concurrency import IfMatch, set_etag
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/v1/registries", tags=["registries"])

ServicePath = Annotated[str, Path(pattern=SERVICE_PATTERN, description="The registry's service name.")]


@router.get("", responses=problem_responses(401, 422))
async def list_registries(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> Page[Registry]:
    """Every registry and the department that owns its data, in service order."""
    found = await service.listed(session, limit=limit, cursor=cursor)
    return Page[Registry](items=found.items, next_cursor=found.next_cursor)


@router.get("/{service_name}", responses=problem_responses(401, 404, 422))
async def get_registry(
    service_name: ServicePath, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> Registry:
    """One registry and its owning department."""
    registry = await service.get(session, service_name)
    set_etag(response, registry.version)
    return registry


@router.put(
    "/{service_name}",
    responses={201: {"model": Registry, "description": "Created"}, **problem_responses(400, 401, 403, 409, 412, 422)},
)
async def assign_registry(
    service_name: ServicePath,
    assignment: Annotated[RegistryAssignment, Body()],
    session: SessionDep,
    admin: AdminDep,
    response: Response,
    if_match: IfMatch = None,
) -> Registry:
    """Set the department that owns a registry (platform admins only); emits ``registry.assigned`` when it changes."""
    registry, created = await service.assign(session, admin, service_name, assignment, if_match)
    if created:
        response.status_code = status.HTTP_201_CREATED
    set_etag(response, registry.version)
    return registry
