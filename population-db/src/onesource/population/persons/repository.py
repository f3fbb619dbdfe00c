"""Every SQL statement of the persons domain (the registry core writes records and their versions)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.population.models import Person, PersonImport


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching values that start with ``prefix`` taken literally."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def get_import(session: AsyncSession, import_id: Any) -> PersonImport | None:
    """The bulk import ``import_id`` (a person's ``import_id`` names the import that registered it)."""
    return await session.get(PersonImport, import_id)


async def now(session: AsyncSession) -> Any:
    """The transaction's timestamp (every row a transaction writes carries the same one)."""
    return (await session.execute(select(func.now()))).scalar_one()


def search(
    *,
    name: str | None,
    region: str | None,
    born_from: date | None,
    born_to: date | None,
    deceased: bool | None,
) -> Select[tuple[Person]]:
    """Persons matching every given filter (the caller orders and pages them)."""
    statement = select(Person)
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
    return statement
