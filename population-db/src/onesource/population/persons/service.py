"""Business rules of persons: registration, updates under optimistic concurrency, death, history, search.

What every registry does alike (versions, events, ``If-Match``, history) is the registry core's
(``registry.records``); this module holds what is the population registry's own: its rules, the former name a
new name leaves behind, death as the lifecycle's end, and the first version a bulk import keeps in the person row.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit.auth import Principal
from onesource.kit.concurrency import check_version
from onesource.kit.db import Reader, driver_connection
from onesource.kit.pagination import Slice, paginate
from onesource.population.models import Person as PersonRow
from onesource.population.models import PersonVersion as PersonVersionRow
from onesource.population.persons import repository
from onesource.population.persons.errors import DuplicatePerson, InvalidPerson, PersonDeceasedAlready, PersonNotFound
from onesource.population.persons.events import PersonDeceased, PersonRegistered, PersonUpdated
from onesource.population.persons.rules import record_problems
from onesource.population.persons.schemas import RECORD_FIELDS, Person, PersonCreate, PersonUpdate, PersonVersion
from onesource.registry import records
from onesource.registry.records import RecordKind


async def _first_version_in_row(connection: asyncpg.Connection, person: PersonRow) -> dict[str, Any] | None:
    """The ``person_version`` columns of a bulk-imported person's first version, while the row holds it, or ``None``.

    That is, while nothing changed the person since the import. Such a version has no ``person_version`` row (an
    import writes one row per person, see ``Person.import_id``): it is the person row as it stands, recorded by the
    import's client and request when the import committed. A change writes it out, so the history keeps it.
    """
    if person.import_id is None or person.version != 1:
        return None
    registered_by = await connection.fetchrow(_IMPORTER, person.import_id)
    if registered_by is None:  # imports are never deleted; a missing one is a broken database, not bad input
        raise LookupError(f"import {person.import_id}, which registered {person.id_number}, is missing")
    return {
        "id_number": person.id_number,
        "version": 1,
        "change": "registered",
        "changes": PERSONS.record_of(person),
        "recorded_at": person.created_at,
        "recorded_by": registered_by["client_id"],
        "department": registered_by["department"],
        "request_id": registered_by["request_id"],
        "import_id": person.import_id,
    }


_IMPORTER = "SELECT client_id, department, request_id FROM person_import WHERE id = $1"


def _not_found(id_number: str) -> PersonNotFound:
    return PersonNotFound(f"no person is registered with ID number {id_number}")


def _duplicate(id_number: str) -> DuplicatePerson:
    return DuplicatePerson(f"a person with ID number {id_number} is already registered")


PERSONS: RecordKind[PersonRow] = RecordKind(
    table=PersonRow,
    version_table=PersonVersionRow,
    key="id_number",
    shape=Person,
    record_fields=RECORD_FIELDS,
    registered=PersonRegistered,
    updated=PersonUpdated,
    not_found=_not_found,
    duplicate=_duplicate,
    version_shape=PersonVersion,
    normalise_key=str.upper,
    unwritten_first_version=_first_version_in_row,
)
"""Persons, as the registry core keeps them."""


def record_of(person: PersonRow) -> dict[str, Any]:
    """The record's fields, JSON-ready, as events and history carry them."""
    return PERSONS.record_of(person)


async def register(session: AsyncSession, create: PersonCreate, principal: Principal) -> Person:
    """Register a person; :class:`InvalidPerson` (422) or :class:`DuplicatePerson` (409)."""
    values = create.model_dump()
    problems = record_problems(values)
    if problems:
        raise InvalidPerson(problems)
    person, _ = await records.register_on(await driver_connection(session), PERSONS, values, principal)
    assert isinstance(person, Person)
    return person


async def read(connection: Reader, id_number: str) -> Person:
    """The person with ``id_number`` as the API shows it; :class:`PersonNotFound` (404) otherwise."""
    person = await records.read(connection, PERSONS, id_number)
    assert isinstance(person, Person)
    return person


async def get(session: AsyncSession, id_number: str, *, for_update: bool = False) -> PersonRow:
    """The person with ``id_number``; :class:`PersonNotFound` (404) otherwise."""
    return await records.get(session, PERSONS, id_number, for_update=for_update)


def _checked_update(person: PersonRow, changes: dict[str, Any], patch: PersonUpdate) -> dict[str, Any]:
    """The values an update sets, after the population registry's rules; 409 (deceased) or 422."""
    if person.deceased:
        raise PersonDeceasedAlready(f"{person.id_number} is registered as deceased; the record no longer changes")
    if "name" in changes and "former_names" not in patch.model_fields_set and person.name not in person.former_names:
        changes = {
            **changes,
            "former_names": [*person.former_names, person.name],
        }  # the old name: a former name (曾用名)
    # The changed record must pass every rule a registration passes (mutable fields hold no dates, so the
    # JSON-ready values of ``changes`` are also the typed ones).
    merged = {**Person.model_validate(person).model_dump(), **changes}
    problems = [problem for problem in record_problems(merged) if problem.field in changes]
    if problems:
        raise InvalidPerson(problems)
    return {name: merged[name] for name in changes}


async def update(
    connection: asyncpg.Connection,
    id_number: str,
    patch: PersonUpdate,
    *,
    expected_version: int | None,
    principal: Principal,
) -> tuple[BaseModel, int]:
    """Apply a partial update to the version the caller read; 404, 409 (deceased), 412 (stale) or 422."""
    return await records.change_fields_on(
        connection,
        PERSONS,
        id_number,
        patch=patch.changes(),
        expected_version=expected_version,
        by=principal,
        check=lambda person, changes: _checked_update(person, changes, patch),
    )


async def register_death(
    session: AsyncSession, id_number: str, death_date: date, *, expected_version: int | None, principal: Principal
) -> PersonRow:
    """Register the person's death; 404, 409 when already registered, 412 (stale) or 422 (impossible date)."""
    person = await get(session, id_number, for_update=True)
    check_version(person.version, expected_version)
    if person.deceased:
        raise PersonDeceasedAlready(f"the death of {person.id_number} is already registered ({person.death_date})")
    typed = {**Person.model_validate(person).model_dump(), "death_date": death_date}
    problems = [problem for problem in record_problems(typed) if problem.field == "death_date"]
    if problems:
        raise InvalidPerson(problems)
    return await records.apply_change(
        session,
        PERSONS,
        person,
        change="deceased",
        values={"deceased": True, "death_date": death_date},
        event=PersonDeceased,
        by=principal,
    )


async def history(session: AsyncSession, id_number: str, *, limit: int, cursor: str | None) -> Slice[Any]:
    """One page of the person's versions, oldest first, each with the whole record as of that version."""
    return await records.history(session, PERSONS, id_number, limit=limit, cursor=cursor)


async def search(
    session: AsyncSession,
    *,
    name: str | None,
    region: str | None,
    born_from: date | None,
    born_to: date | None,
    deceased: bool | None,
    limit: int,
    cursor: str | None,
) -> Slice[PersonRow]:
    """One page of persons matching the filters, in ID-number order."""
    statement = repository.search(name=name, region=region, born_from=born_from, born_to=born_to, deceased=deceased)
    return await paginate(session, statement, order=[PersonRow.id_number], limit=limit, cursor=cursor)
