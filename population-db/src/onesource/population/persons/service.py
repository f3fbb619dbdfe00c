"""Business rules of persons: registration, updates under optimistic concurrency, death, history, search."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit import outbox
from onesource.kit.auth import Principal
from onesource.kit.errors import PreconditionFailed
from onesource.kit.pagination import Slice, cut, decode_cursor
from onesource.kit.telemetry import request_id_var
from onesource.population.models import Person as PersonRow
from onesource.population.models import PersonVersion as PersonVersionRow
from onesource.population.persons import repository
from onesource.population.persons.errors import DuplicatePerson, InvalidPerson, PersonDeceasedAlready, PersonNotFound
from onesource.population.persons.events import PersonDeceased, PersonRegistered, PersonUpdated
from onesource.population.persons.rules import record_problems
from onesource.population.persons.schemas import Person, PersonCreate, PersonUpdate, PersonVersion


def record_of(person: PersonRow) -> dict[str, Any]:
    """The record's fields, JSON-ready, as events and history carry them."""
    return Person.model_validate(person).record()


async def register(session: AsyncSession, create: PersonCreate, principal: Principal) -> PersonRow:
    """Register a person; :class:`InvalidPerson` (422) or :class:`DuplicatePerson` (409)."""
    values = create.model_dump()
    problems = record_problems(values)
    if problems:
        raise InvalidPerson(problems)
    person = await repository.insert_new(session, values)
    if person is None:
        raise DuplicatePerson(f"a person with ID number {create.id_number} is already registered")
    record = record_of(person)
    repository.add_version(
        session,
        person,
        change="registered",
        changes=record,
        recorded_by=principal.client_id,
        department=principal.department,
        request_id=request_id_var.get(),
    )
    outbox.add(session, PersonRegistered(record=record))
    return person


async def _first_version_in_row(session: AsyncSession, person: PersonRow) -> PersonVersionRow | None:
    """The first version of a person a bulk import registered and nothing changed since, or ``None``.

    Such a version has no ``person_version`` row (an import writes one row per person, see ``Person.import_id``):
    it is the person row as it stands, recorded by the import's client and request when the import committed.
    The returned row is not in the session; a change adds it, so the history keeps it once the row changes.
    """
    if person.import_id is None or person.version != 1:
        return None
    registered_by = await repository.get_import(session, person.import_id)
    if registered_by is None:  # imports are never deleted; a missing one is a broken database, not bad input
        raise LookupError(f"import {person.import_id}, which registered {person.id_number}, is missing")
    return PersonVersionRow(
        id_number=person.id_number,
        version=1,
        change="registered",
        changes=record_of(person),
        recorded_at=person.created_at,
        recorded_by=registered_by.client_id,
        department=registered_by.department,
        request_id=registered_by.request_id,
        import_id=person.import_id,
    )


async def get(session: AsyncSession, id_number: str, *, for_update: bool = False) -> PersonRow:
    """The person with ``id_number``; :class:`PersonNotFound` (404) otherwise."""
    person = await repository.get(session, id_number.upper(), for_update=for_update)
    if person is None:
        raise PersonNotFound(f"no person is registered with ID number {id_number}")
    return person


async def _write_out_first_version(session: AsyncSession, person: PersonRow) -> None:
    """Before an imported person first changes, keep the version its row held in the history."""
    first = await _first_version_in_row(session, person)
    if first is not None:
        session.add(first)


def _check_version(person: PersonRow, expected: int | None) -> None:
    if expected is not None and person.version != expected:
        raise PreconditionFailed(
            f"the record is at version {person.version}, not {expected}; read it again and reapply your change",
            current_version=person.version,
        )


async def update(
    session: AsyncSession, id_number: str, patch: PersonUpdate, *, expected_version: int | None, principal: Principal
) -> PersonRow:
    """Apply a partial update to the version the caller read; 404, 409 (deceased), 412 (stale) or 422."""
    person = await get(session, id_number, for_update=True)  # the row lock serialises concurrent updates
    _check_version(person, expected_version)
    if person.deceased:
        raise PersonDeceasedAlready(f"{person.id_number} is registered as deceased; the record no longer changes")
    current = record_of(person)
    changes = {name: value for name, value in patch.changes().items() if current[name] != value}
    if "name" in changes and "former_names" not in patch.model_fields_set and person.name not in person.former_names:
        changes["former_names"] = [*person.former_names, person.name]  # the old name becomes a former name (曾用名)
    if not changes:
        return person  # nothing changes: no new version, no event
    # The changed record must pass every rule a registration passes (mutable fields hold no dates, so the
    # JSON-ready values of ``changes`` are also the typed ones).
    merged = {**Person.model_validate(person).model_dump(), **changes}
    problems = [problem for problem in record_problems(merged) if problem.field in changes]
    if problems:
        raise InvalidPerson(problems)
    await _write_out_first_version(session, person)
    for name in changes:
        setattr(person, name, merged[name])
    person.version += 1
    person.updated_at = await repository.now(session)
    record = record_of(person)
    repository.add_version(
        session,
        person,
        change="updated",
        changes=changes,
        recorded_by=principal.client_id,
        department=principal.department,
        request_id=request_id_var.get(),
    )
    outbox.add(session, PersonUpdated(record=record, changes=changes))
    return person


async def register_death(
    session: AsyncSession, id_number: str, death_date: date, *, expected_version: int | None, principal: Principal
) -> PersonRow:
    """Register the person's death; 404, 409 when already registered, 412 (stale) or 422 (impossible date)."""
    person = await get(session, id_number, for_update=True)
    _check_version(person, expected_version)
    if person.deceased:
        raise PersonDeceasedAlready(f"the death of {person.id_number} is already registered ({person.death_date})")
    typed = {**Person.model_validate(person).model_dump(), "death_date": death_date}
    problems = [problem for problem in record_problems(typed) if problem.field == "death_date"]
    if problems:
        raise InvalidPerson(problems)
    await _write_out_first_version(session, person)
    person.deceased = True
    person.death_date = death_date
    person.version += 1
    person.updated_at = await repository.now(session)
    repository.add_version(
        session,
        person,
        change="deceased",
        changes={"deceased": True, "death_date": death_date.isoformat()},
        recorded_by=principal.client_id,
        department=principal.department,
        request_id=request_id_var.get(),
    )
    outbox.add(session, PersonDeceased(record=record_of(person)))
    return person


async def history(session: AsyncSession, id_number: str, *, limit: int, cursor: str | None) -> Slice[PersonVersion]:
    """One page of the person's versions, oldest first, each with the whole record as of that version."""
    person = await get(session, id_number)
    after = decode_cursor(cursor)
    first = int(after) + 1 if after is not None and after.isdigit() else 1
    rows = list(await repository.versions(session, person.id_number, up_to=first + limit))
    in_row = await _first_version_in_row(session, person)
    if in_row is not None:
        rows.insert(0, in_row)
    record: dict[str, Any] = {}
    page: list[PersonVersion] = []
    for row in rows:
        record = {**record, **row.changes}
        if row.version >= first:
            page.append(
                PersonVersion(
                    version=row.version,
                    change=row.change,  # type: ignore[arg-type]
                    changes=row.changes,
                    recorded_at=row.recorded_at,
                    recorded_by=row.recorded_by,
                    department=row.department,
                    import_id=str(row.import_id) if row.import_id else None,
                    record=record,
                )
            )
    return cut(page, limit, lambda version: str(version.version))


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
    rows = await repository.search(
        session,
        name=name,
        region=region,
        born_from=born_from,
        born_to=born_to,
        deceased=deceased,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    return cut(rows, limit, lambda person: person.id_number)
