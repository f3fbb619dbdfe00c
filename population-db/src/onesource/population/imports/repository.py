"""Every SQL statement of bulk imports, including the ``COPY`` loads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Text, and_, any_, cast, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from onesource.kit.db import copy_text_rows, driver_connection
from onesource.population.models import Person, PersonVersion
from onesource.population.persons.schemas import RECORD_FIELDS

#: The person table's record columns: named and ordered as the record's fields.
PERSON_COLUMNS = RECORD_FIELDS
#: Columns an import writes: the record, and the import that registered it (see ``models.Person.import_id``).
IMPORTED_PERSON_COLUMNS = (*PERSON_COLUMNS, "import_id")
ERROR_COLUMNS = ("import_id", "line", "id_number", "field", "reason")


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
