"""Every SQL statement of the departments domain."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.models import Department


async def get(session: AsyncSession, code: str) -> Department | None:
    """The department with ``code``."""
    return await session.get(Department, code)


async def find_conflicting(session: AsyncSession, code: str, uscc: str) -> Department | None:
    """A department that already has ``code`` or ``uscc``."""
    result = await session.scalars(
        select(Department).where(or_(Department.code == code, Department.uscc == uscc)).limit(1)
    )
    return result.first()


async def insert_new(session: AsyncSession, code: str, name: str, uscc: str) -> Department | None:
    """Insert a department unless its code or USCC exists (race-safe); ``None`` when it did exist."""
    statement = (
        insert(Department)
        .values(code=code, name=name, uscc=uscc)
        .on_conflict_do_nothing()
        .returning(Department)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).first()


def listed() -> Select[tuple[Department]]:
    """Every department (the caller orders and pages them)."""
    return select(Department)
