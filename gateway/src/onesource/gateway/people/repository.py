"""Every SQL statement of the people domain."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.models import Person


async def get(session: AsyncSession, username: str, *, for_update: bool = False) -> Person | None:
    """The person with ``username``."""
    return await session.get(Person, username, with_for_update=for_update, populate_existing=for_update)


async def insert_new(
    session: AsyncSession, *, username: str, department: str, name: str, roles: list[str], password_hash: str
) -> Person | None:
    """Insert a person unless the username exists (race-safe); ``None`` when it did exist."""
    statement = (
        insert(Person)
        .values(username=username, department=department, name=name, roles=roles, password_hash=password_hash)
        .on_conflict_do_nothing(index_elements=[Person.username])
        .returning(Person)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).first()


def listed(*, department: str | None) -> Select[tuple[Person]]:
    """The people, optionally of one department (the caller orders and pages them)."""
    statement = select(Person)
    if department is not None:
        statement = statement.where(Person.department == department)
    return statement
