"""Entity endpoints: ``/v1/entities`` (reached through the gateway as ``/api/legal-entity/v1/entities``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from onesource.kit.concurrency import IfMatch, expected_version, set_etag, versioned_answer
from onesource.kit.db import ReadDep, SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.idempotency import idempotent
from onesource.kit.pagination import Cursor, Limit, Page
from onesource.legal_entity.dependencies import TodayDep
from onesource.legal_entity.entities import service
from onesource.legal_entity.entities.rules import EntityStatus
from onesource.legal_entity.entities.schemas import Entity, EntityCreate, EntityUpdate, EntityVersion, StatusChange
from onesource.legal_entity.models import Entity as EntityRow
from onesource.legal_entity.representatives import RepresentativeCheckDep
from onesource.registry.access import OwnerDep, ReaderDep, RegistrarDep

router = APIRouter(prefix="/v1/entities", tags=["entities"])

UsccPath = Annotated[str, Path(min_length=1, max_length=32, description="Unified social credit code (GB 32100-2015).")]


def _answer(entity: EntityRow, response: Response) -> Entity:
    set_etag(response, entity.version)
    return Entity.model_validate(entity)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Entity,
    responses=problem_responses(401, 403, 409, 422, 503),
)
@idempotent(location=lambda entity: f"/v1/entities/{entity['uscc']}", etag_version=True)
async def register_entity(
    body: EntityCreate,
    session: SessionDep,
    registrar: RegistrarDep,
    check: RepresentativeCheckDep,
    today: TodayDep,
) -> Entity:
    """Register an entity (registrar of the owning department); its legal representative is checked in population-db."""
    return Entity.model_validate(await service.register(session, body, registrar, check, today=today))


@router.get("", responses=problem_responses(401, 403, 422))
async def search_entities(
    session: SessionDep,
    reader: ReaderDep,
    name: Annotated[
        str | None, Query(min_length=1, max_length=200, description="The name contains this (anywhere in it).")
    ] = None,
    region: Annotated[
        str | None,
        Query(
            pattern=r"^\d{2}(\d{2}){0,2}$", description="Domicile division code starts with this (2, 4 or 6 digits)."
        ),
    ] = None,
    industry: Annotated[
        str | None,
        Query(
            pattern=r"^([A-T]|\d{2,4})$",
            description="GB/T 4754-2017 section letter, or a division, group or class code the industry starts with.",
        ),
    ] = None,
    status_: Annotated[EntityStatus | None, Query(alias="status", description="Only entities in this status.")] = None,
    established_from: Annotated[date | None, Query(description="Established on or after this date.")] = None,
    established_to: Annotated[date | None, Query(description="Established on or before this date.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[Entity]:
    """Search entities by name (substring), region, industry, status and date of establishment, in USCC order."""
    found = await service.search(
        session,
        name=name,
        region=region,
        industry=industry,
        status=status_,
        established_from=established_from,
        established_to=established_to,
        limit=limit,
        cursor=cursor,
    )
    return Page[Entity].model_validate(found, from_attributes=True)


@router.get("/{uscc}", response_model=Entity, responses=problem_responses(401, 403, 404, 422))
async def get_entity(uscc: UsccPath, connection: ReadDep, reader: ReaderDep) -> Response:
    """One entity by USCC, with its version as ``ETag``."""
    # Read here rather than through a "load it or 404" dependency: a dependency level is work FastAPI does on every
    # request, and this is the registry's hottest path (404 still comes after the caller may read entities at all).
    entity = await service.read(connection, uscc)
    return versioned_answer(entity, entity.version)


@router.patch("/{uscc}", responses=problem_responses(400, 401, 403, 404, 409, 412, 422, 428, 503))
async def update_entity(
    uscc: UsccPath,
    body: EntityUpdate,
    session: SessionDep,
    registrar: RegistrarDep,
    check: RepresentativeCheckDep,
    today: TodayDep,
    response: Response,
    if_match: IfMatch = None,
) -> Entity:
    """Change fields of an entity (JSON merge patch); ``If-Match`` must name the current version."""
    entity = await service.update(
        session,
        uscc,
        body,
        expected_version=expected_version(if_match),
        principal=registrar,
        check=check,
        today=today,
    )
    return _answer(entity, response)


@router.post("/{uscc}/status", responses=problem_responses(400, 401, 403, 404, 409, 412, 422))
async def change_entity_status(
    uscc: UsccPath,
    body: StatusChange,
    session: SessionDep,
    registrar: RegistrarDep,
    today: TodayDep,
    response: Response,
    if_match: IfMatch = None,
) -> Entity:
    """Move an entity along its status lifecycle; 409 ``invalid-status-transition`` for a move it does not allow."""
    expected = expected_version(if_match) if if_match is not None else None
    entity = await service.change_status(
        session, uscc, body, expected_version=expected, principal=registrar, today=today
    )
    return _answer(entity, response)


@router.get("/{uscc}/history", responses=problem_responses(401, 403, 404, 422))
async def entity_history(
    uscc: UsccPath, session: SessionDep, owner: OwnerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[EntityVersion]:
    """Every version of an entity, oldest first: what changed, who changed it, when, and the record as it was."""
    found = await service.history(session, uscc, limit=limit, cursor=cursor)
    return Page[EntityVersion].model_validate(found, from_attributes=True)
