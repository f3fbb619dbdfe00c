"""Every SQL statement of the departments read model."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.departments.schemas import DepartmentData
from onesource.catalog.models import Department


async def upsert(session: AsyncSession, department: DepartmentData) -> None:
    """Record the department as its latest event describes it."""
    values = department.model_dump()
    statement = insert(Department).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Department.code],
            set_={"name": statement.excluded.name, "uscc": statement.excluded.uscc, "updated_at": func.now()},
        )
    )


async def get(session: AsyncSession, code: str) -> Department | None:
    """The department with ``code``."""
    return await session.get(Department, code)


async def by_code(session: AsyncSession, codes: Iterable[str]) -> dict[str, Department]:
    """The known departments among ``codes``."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    found = await session.scalars(select(Department).where(Department.code.in_(wanted)))
    return {department.code: department for department in found}
