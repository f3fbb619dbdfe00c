"""People endpoints: ``/api/identity/v1/people``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, status

from onesource.gateway.clients.revocation import RevocationList
from onesource.gateway.departments.schemas import DEPARTMENT_CODE_PATTERN
from onesource.gateway.dependencies import AdminDep
from onesource.gateway.models import Person as PersonRow
from onesource.gateway.people import service
from onesource.gateway.people.schemas import (
    USERNAME_PATTERN,
    PasswordReset,
    Person,
    PersonCreate,
    PersonWithPassword,
    subject_of,
)
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.db import SessionDep
from onesource.kit.errors import Forbidden, problem_responses
from onesource.kit.idempotency import idempotent
from onesource.kit.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/api/identity/v1/people", tags=["people"])

UsernamePath = Annotated[str, Path(pattern=USERNAME_PATTERN, description="The person's username.")]


def _revocations(request: Request) -> RevocationList:
    revocation_list: RevocationList = request.app.state.revocations
    return revocation_list


def _with_password(person: PersonRow, password: str | None) -> PersonWithPassword:
    return PersonWithPassword.model_validate({**Person.model_validate(person).model_dump(), "password": password})


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonWithPassword,
    responses=problem_responses(401, 403, 409, 422),
)
@idempotent()
async def register_person(body: PersonCreate, session: SessionDep, admin: AdminDep) -> PersonWithPassword:
    """Give a person an account (admin); a generated password is answered only this once."""
    person, password = await service.register(session, body)
    return _with_password(person, password)


@router.get("", responses=problem_responses(401, 403, 422))
async def list_people(
    session: SessionDep,
    admin: AdminDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    department: Annotated[
        str | None, Query(pattern=DEPARTMENT_CODE_PATTERN, description="Only this department's people.")
    ] = None,
) -> Page[Person]:
    """List people in username order (admin)."""
    found = await service.page(session, department=department, limit=limit, cursor=cursor)
    return Page[Person].model_validate(found, from_attributes=True)


@router.get("/{username}", responses=problem_responses(401, 403, 404, 422))
async def get_person(username: UsernamePath, session: SessionDep, principal: CurrentPrincipal) -> Person:
    """One person (admin, or the person themself)."""
    if not principal.has_role("admin") and principal.client_id != subject_of(username):
        raise Forbidden("only an admin or the person themself may read a person's account")
    return Person.model_validate(await service.get(session, username))


@router.post("/{username}/password", responses=problem_responses(401, 403, 404, 422))
async def reset_person_password(
    username: UsernamePath,
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    body: Annotated[PasswordReset | None, Body()] = None,
) -> PersonWithPassword:
    """Give the person a new password (admin); the old one and every token issued before stop working at once.

    Without a body (or without ``password``) a password is generated and answered only this once.
    """
    person, password = await service.reset_password(session, username, body.password if body else None)
    if person.password_reset_at is not None:
        _revocations(request).rotated(subject_of(username), person.password_reset_at)
    return _with_password(person, password)


@router.post("/{username}/disable", responses=problem_responses(401, 403, 404, 422))
async def disable_person(username: UsernamePath, request: Request, session: SessionDep, admin: AdminDep) -> Person:
    """Disable a person (admin): no more sign-ins, and the tokens the person holds are refused at once."""
    person = await service.set_disabled(session, username, True)
    _revocations(request).disabled(subject_of(username))
    return Person.model_validate(person)


@router.post("/{username}/enable", responses=problem_responses(401, 403, 404, 422))
async def enable_person(username: UsernamePath, request: Request, session: SessionDep, admin: AdminDep) -> Person:
    """Enable a disabled person again (admin); the person must sign in anew (older tokens stay refused)."""
    person = await service.set_disabled(session, username, False)
    _revocations(request).enabled(subject_of(username), person.disabled_at)
    return Person.model_validate(person)
