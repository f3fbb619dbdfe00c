"""Every SQL statement of the departments domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
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


async def page(session: AsyncSession, *, after: str | None, limit: int) -> Sequence[Department]:
    """Up to ``limit`` departments ordered by code, after ``after``."""
    statement = select(Department).order_by(Department.code).limit(limit)
    if after is not None:
        statement = statement.where(Department.code > after)
    return (await session.scalars(statement)).all()
