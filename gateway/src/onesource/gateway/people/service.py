"""Business rules of people: accounts, password resets, disabling, checking passwords, signing out."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.clients.errors import UnknownDepartment
from onesource.gateway.departments import repository as departments
from onesource.gateway.models import Person
from onesource.gateway.people import hashing, repository
from onesource.gateway.people.errors import DuplicatePerson, PersonNotFound
from onesource.gateway.people.events import PersonDisabled, PersonEnabled, PersonPasswordReset, PersonRegistered
from onesource.gateway.people.schemas import PersonCreate
from onesource.kit import outbox
from onesource.kit.auth import ROLES
from onesource.kit.pagination import Slice, paginate


async def register(session: AsyncSession, create: PersonCreate) -> tuple[Person, str | None]:
    """Create a person's account; returns it with the generated password (``None`` when one was given)."""
    if await departments.get(session, create.department) is None:
        raise UnknownDepartment(create.department)
    generated = None if create.password is not None else hashing.new_password()
    password = create.password if create.password is not None else generated
    assert password is not None
    person = await repository.insert_new(
        session,
        username=create.username,
        department=create.department,
        name=create.name,
        roles=[role for role in ROLES if role in create.roles],
        password_hash=await hashing.hash_password(password),
    )
    if person is None:
        raise DuplicatePerson(f"a person with username {create.username!r} already exists", username=create.username)
    outbox.add(
        session,
        PersonRegistered(username=person.username, department=person.department, name=person.name, roles=person.roles),
    )
    return person, generated


async def get(session: AsyncSession, username: str, *, for_update: bool = False) -> Person:
    """The person with ``username``; :class:`PersonNotFound` (404) otherwise."""
    person = await repository.get(session, username, for_update=for_update)
    if person is None:
        raise PersonNotFound(f"no person has username {username!r}")
    return person


async def reset_password(session: AsyncSession, username: str, password: str | None) -> tuple[Person, str | None]:
    """Give the person a new password (generated when ``None``); the old one and older tokens stop working."""
    person = await get(session, username, for_update=True)
    generated = None if password is not None else hashing.new_password()
    chosen = password if password is not None else generated
    assert chosen is not None
    person.password_hash = await hashing.hash_password(chosen)
    person.password_reset_at = datetime.now(UTC)
    await session.flush()
    outbox.add(session, PersonPasswordReset(username=person.username, department=person.department))
    return person, generated


async def set_disabled(session: AsyncSession, username: str, disabled: bool) -> Person:
    """Disable or enable a person; an event is written only when the state changes."""
    person = await get(session, username, for_update=True)
    if person.disabled == disabled:
        return person
    person.disabled = disabled
    if disabled:
        person.disabled_at = datetime.now(UTC)
        event: PersonDisabled | PersonEnabled = PersonDisabled(username=username, department=person.department)
    else:
        event = PersonEnabled(username=username, department=person.department)
    await session.flush()
    outbox.add(session, event)
    return person


async def sign_out(session: AsyncSession, username: str, at: datetime) -> Person | None:
    """Refuse every token the person was issued before ``at`` (all sessions end); ``None`` for an unknown person."""
    person = await repository.get(session, username, for_update=True)
    if person is None:
        return None
    person.signed_out_at = at
    await session.flush()
    return person


async def page(session: AsyncSession, *, department: str | None, limit: int, cursor: str | None) -> Slice[Person]:
    """One page of people in username order."""
    statement = repository.listed(department=department)
    return await paginate(session, statement, order=[Person.username], limit=limit, cursor=cursor)


async def authenticate(session: AsyncSession, username: str, password: str) -> Person | None:
    """The enabled person these credentials belong to, or ``None`` (the same time is spent either way)."""
    person = await repository.get(session, username)
    matches = await hashing.verify_password(password, person.password_hash if person else hashing.DUMMY_HASH)
    if person is None or not matches or person.disabled:
        return None
    return person
