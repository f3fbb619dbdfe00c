"""Person endpoints: ``/v1/persons`` (reached through the gateway as ``/api/population/v1/persons``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from onesource.kit.concurrency import IfMatch, expected_version, set_etag, versioned_answer
from onesource.kit.db import ReadDep, SessionDep, WriteDep
from onesource.kit.errors import problem_responses
from onesource.kit.idempotency import idempotent
from onesource.kit.pagination import Cursor, Limit, Page
from onesource.population.models import Person as PersonRow
from onesource.population.persons import service
from onesource.population.persons.schemas import DeathRegistration, Person, PersonCreate, PersonUpdate, PersonVersion
from onesource.registry.access import OwnerDep, ReaderDep, RegistrarDep

router = APIRouter(prefix="/v1/persons", tags=["persons"])

IdNumberPath = Annotated[str, Path(min_length=1, max_length=32, description="Citizen ID number (GB 11643-1999).")]


def _answer(person: PersonRow, response: Response) -> Person:
    set_etag(response, person.version)
    return Person.model_validate(person)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=Person, responses=problem_responses(401, 403, 409, 422)
)
@idempotent(location=lambda person: f"/v1/persons/{person['id_number']}", etag_version=True)
async def register_person(body: PersonCreate, session: SessionDep, registrar: RegistrarDep) -> Person:
    """Register a person (registrar of the owning department); the ID number is checked against GB 11643-1999."""
    return Person.model_validate(await service.register(session, body, registrar))


@router.get("", responses=problem_responses(401, 403, 422))
async def search_persons(
    session: SessionDep,
    reader: ReaderDep,
    name: Annotated[str | None, Query(min_length=1, max_length=64, description="Name starts with this.")] = None,
    region: Annotated[
        str | None,
        Query(
            pattern=r"^\d{2}(\d{2}){0,2}$", description="Household division code starts with this (2, 4 or 6 digits)."
        ),
    ] = None,
    born_from: Annotated[date | None, Query(description="Born on or after this date.")] = None,
    born_to: Annotated[date | None, Query(description="Born on or before this date.")] = None,
    deceased: Annotated[bool | None, Query(description="Only deceased (true) or living (false) persons.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[Person]:
    """Search persons by name prefix, household region and birth-date range, in ID-number order."""
    found = await service.search(
        session,
        name=name,
        region=region,
        born_from=born_from,
        born_to=born_to,
        deceased=deceased,
        limit=limit,
        cursor=cursor,
    )
    return Page[Person].model_validate(found, from_attributes=True)


@router.get("/{id_number}", response_model=Person, responses=problem_responses(401, 403, 404, 422))
async def get_person(id_number: IdNumberPath, connection: ReadDep, reader: ReaderDep) -> Response:
    """One person by ID number, with its version as ``ETag``."""
    # Read here rather than through a "load it or 404" dependency: a dependency level is work FastAPI does on every
    # request, and this is the registry's hottest path (404 still comes after the caller may read persons at all).
    person = await service.read(connection, id_number)
    return versioned_answer(person, person.version)


@router.patch(
    "/{id_number}", response_model=Person, responses=problem_responses(400, 401, 403, 404, 409, 412, 422, 428)
)
async def update_person(
    id_number: IdNumberPath,
    body: PersonUpdate,
    connection: WriteDep,
    registrar: RegistrarDep,
    if_match: IfMatch = None,
) -> Response:
    """Change fields of a person (JSON merge patch); ``If-Match`` must name the current version."""
    person, version = await service.update(
        connection, id_number, body, expected_version=expected_version(if_match), principal=registrar
    )
    return versioned_answer(person, version)


@router.post("/{id_number}/death", responses=problem_responses(400, 401, 403, 404, 409, 412, 422))
async def register_death(
    id_number: IdNumberPath,
    body: DeathRegistration,
    session: SessionDep,
    registrar: RegistrarDep,
    response: Response,
    if_match: IfMatch = None,
) -> Person:
    """Register a person's death (registrar of the owning department); ``If-Match`` is honoured when sent."""
    expected = expected_version(if_match) if if_match is not None else None
    person = await service.register_death(
        session, id_number, body.death_date, expected_version=expected, principal=registrar
    )
    return _answer(person, response)


@router.get("/{id_number}/history", responses=problem_responses(401, 403, 404, 422))
async def person_history(
    id_number: IdNumberPath, session: SessionDep, owner: OwnerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[PersonVersion]:
    """Every version of a person, oldest first: what changed, who changed it, when, and the record as it was."""
    found = await service.history(session, id_number, limit=limit, cursor=cursor)
    return Page[PersonVersion].model_validate(found, from_attributes=True)
