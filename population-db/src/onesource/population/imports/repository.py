"""Every SQL statement of bulk imports, including the ``COPY`` loads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, Text, and_, any_, cast, func, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from onesource.kit.db import copy_text_rows, driver_connection
from onesource.population.models import Person, PersonImport, PersonImportError, PersonVersion
from onesource.population.persons.schemas import RECORD_FIELDS

#: The person table's record columns: named and ordered as the record's fields.
PERSON_COLUMNS = RECORD_FIELDS
#: Columns an import writes: the record, and the import that registered it (see ``models.Person.import_id``).
IMPORTED_PERSON_COLUMNS = (*PERSON_COLUMNS, "import_id")
ERROR_COLUMNS = ("import_id", "line", "id_number", "field", "reason")


async def create(
    session: AsyncSession,
    import_id: uuid.UUID,
    file_format: str,
    client_id: str,
    department: str,
    request_id: str | None,
) -> None:
    """Record a new running import."""
    session.add(
        PersonImport(
            id=import_id,
            format=file_format,
            status="running",
            client_id=client_id,
            department=department,
            request_id=request_id,
        )
    )
    await session.flush()


async def record_progress(
    session: AsyncSession, import_id: uuid.UUID, *, rows_read: int, accepted: int, rejected: int
) -> None:
    """Update a running import's counters."""
    await session.execute(
        update(PersonImport)
        .where(PersonImport.id == import_id)
        .values(rows_read=rows_read, accepted=accepted, rejected=rejected)
    )


async def finish(
    session: AsyncSession,
    import_id: uuid.UUID,
    *,
    status: str,
    rows_read: int,
    accepted: int,
    rejected: int,
    failure: str | None = None,
) -> PersonImport:
    """Mark an import completed or failed, with its final counters."""
    result = await session.scalars(
        update(PersonImport)
        .where(PersonImport.id == import_id)
        .values(
            status=status,
            rows_read=rows_read,
            accepted=accepted,
            rejected=rejected,
            failure=failure,
            finished_at=func.clock_timestamp(),
        )
        .returning(PersonImport)
        .execution_options(populate_existing=True)
    )
    return result.one()


async def get(session: AsyncSession, import_id: uuid.UUID) -> PersonImport | None:
    """The import with ``import_id``."""
    return await session.get(PersonImport, import_id)


def _imports(department: str) -> Select[tuple[PersonImport]]:
    return select(PersonImport).where(PersonImport.department == department)


async def page(
    session: AsyncSession, department: str, *, before: uuid.UUID | None, limit: int
) -> Sequence[PersonImport]:
    """A department's imports, newest first (ids are time-ordered UUIDv7)."""
    statement = _imports(department).order_by(PersonImport.id.desc()).limit(limit)
    if before is not None:
        statement = statement.where(PersonImport.id < before)
    return (await session.scalars(statement)).all()


async def errors(
    session: AsyncSession, import_id: uuid.UUID, *, after: tuple[int, ...] | None, limit: int
) -> Sequence[PersonImportError]:
    """Refused rows of an import in file order, after the position ``(line, error id)`` ``after``."""
    statement = (
        select(PersonImportError)
        .where(PersonImportError.import_id == import_id)
        .order_by(PersonImportError.line, PersonImportError.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(
            tuple_(PersonImportError.line, PersonImportError.id) > tuple_(literal(after[0]), literal(after[1]))
        )
    return (await session.scalars(statement)).all()


async def first_registrations(session: AsyncSession, id_numbers: Sequence[str]) -> dict[str, uuid.UUID | None]:
    """Which of ``id_numbers`` are registered, each with the import that registered it (if one did, since 0003)."""
    rows = await session.execute(
        select(Person.id_number, Person.import_id).where(Person.id_number == any_(cast(list(id_numbers), ARRAY(Text))))
    )
    return {row.id_number: row.import_id for row in rows}


async def copy_persons(session: AsyncSession, persons: Sequence[str]) -> None:
    """``COPY`` new persons, as text rows in :data:`IMPORTED_PERSON_COLUMNS` (fails on a duplicate ID number)."""
    await copy_text_rows(session, "person", IMPORTED_PERSON_COLUMNS, persons)


async def copy_errors(session: AsyncSession, rows: Sequence[tuple[Any, ...]]) -> None:
    """``COPY`` refused rows into the import's error report."""
    if rows:
        driver = await driver_connection(session)
        await driver.copy_records_to_table("person_import_error", records=rows, columns=ERROR_COLUMNS)


_person = Person.__table__


async def first_versions(connection: AsyncConnection, id_numbers: Sequence[str]) -> Sequence[Row[Any]]:
    """The persons of ``id_numbers`` with what their first versions are made of, read in one consistent snapshot.

    Each row has the record's columns, ``version`` and ``import_id``, and the first version if it was written out
    (``first_record``, ``first_import_id``).
    """
    statement = (
        select(
            *(_person.c[name] for name in PERSON_COLUMNS),
            _person.c.version,
            _person.c.import_id,
            PersonVersion.changes.label("first_record"),
            PersonVersion.import_id.label("first_import_id"),
        )
        .outerjoin(PersonVersion, and_(PersonVersion.id_number == _person.c.id_number, PersonVersion.version == 1))
        .where(_person.c.id_number == any_(cast(list(id_numbers), ARRAY(Text))))
    )
    return (await connection.execute(statement)).all()
