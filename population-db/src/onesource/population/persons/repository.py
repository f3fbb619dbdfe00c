"""Every SQL statement of the persons domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.population.models import Person, PersonImport, PersonVersion


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching values that start with ``prefix`` taken literally."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def get(session: AsyncSession, id_number: str, *, for_update: bool = False) -> Person | None:
    """The person with ``id_number`` (locked for the transaction when ``for_update``)."""
    return await session.get(Person, id_number, with_for_update=for_update, populate_existing=for_update)


async def insert_new(session: AsyncSession, values: dict[str, Any]) -> Person | None:
    """Insert a person unless the ID number is registered (race-safe); ``None`` when it was."""
    statement = (
        insert(Person)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Person.id_number])
        .returning(Person)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).first()


def add_version(
    session: AsyncSession,
    person: Person,
    *,
    change: str,
    changes: dict[str, Any],
    recorded_by: str,
    department: str,
    request_id: str | None,
) -> None:
    """Record the person's current version in its history (written at flush)."""
    session.add(
        PersonVersion(
            id_number=person.id_number,
            version=person.version,
            change=change,
            changes=changes,
            recorded_at=person.updated_at,
            recorded_by=recorded_by,
            department=department,
            request_id=request_id,
        )
    )


async def get_import(session: AsyncSession, import_id: Any) -> PersonImport | None:
    """The bulk import ``import_id`` (a person's ``import_id`` names the import that registered it)."""
    return await session.get(PersonImport, import_id)


async def now(session: AsyncSession) -> Any:
    """The transaction's timestamp (every row a transaction writes carries the same one)."""
    return (await session.execute(select(func.now()))).scalar_one()


async def search(
    session: AsyncSession,
    *,
    name: str | None,
    region: str | None,
    born_from: date | None,
    born_to: date | None,
    deceased: bool | None,
    after: str | None,
    limit: int,
) -> Sequence[Person]:
    """Up to ``limit`` persons matching every given filter, in ID-number order after ``after``."""
    statement = select(Person).order_by(Person.id_number).limit(limit)
    if name is not None:
        statement = statement.where(Person.name.like(_like_prefix(name), escape="\\"))
    if region is not None:
        statement = statement.where(Person.household_region_code.like(_like_prefix(region), escape="\\"))
    if born_from is not None:
        statement = statement.where(Person.birth_date >= born_from)
    if born_to is not None:
        statement = statement.where(Person.birth_date <= born_to)
    if deceased is not None:
        statement = statement.where(Person.deceased.is_(deceased))
    if after is not None:
        statement = statement.where(Person.id_number > after)
    return (await session.scalars(statement)).all()


async def versions(session: AsyncSession, id_number: str, *, up_to: int | None = None) -> Sequence[PersonVersion]:
    """The person's versions, oldest first (up to and including ``up_to``)."""
    statement = select(PersonVersion).where(PersonVersion.id_number == id_number).order_by(PersonVersion.version)
    if up_to is not None:
        statement = statement.where(PersonVersion.version <= up_to)
    return (await session.scalars(statement)).all()
