"""Business rules of departments: USCC validity, uniqueness, the registration event."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.departments import repository
from onesource.gateway.departments.errors import DepartmentNotFound, DuplicateDepartment, InvalidUscc
from onesource.gateway.departments.events import DepartmentRegistered
from onesource.gateway.departments.schemas import DepartmentCreate
from onesource.gateway.departments.uscc import uscc_problem
from onesource.gateway.models import Department
from onesource.kit import outbox
from onesource.kit.pagination import Slice, paginate


async def register(session: AsyncSession, create: DepartmentCreate) -> Department:
    """Register a department; :class:`InvalidUscc` (422) or :class:`DuplicateDepartment` (409)."""
    uscc = create.uscc.upper()  # the code's letters are upper case (GB 32100-2015 §4.2); accept either
    problem = uscc_problem(uscc)
    if problem is not None:
        raise InvalidUscc(problem)
    department = await repository.insert_new(session, create.code, create.name, uscc)
    if department is None:
        existing = await repository.find_conflicting(session, create.code, uscc)
        if existing is not None and existing.code == create.code:
            raise DuplicateDepartment(f"a department with code {create.code!r} already exists", code=create.code)
        raise DuplicateDepartment(
            f"department {existing.code if existing else '?'!r} already has USCC {uscc}",
            code=existing.code if existing else None,
        )
    outbox.add(session, DepartmentRegistered(code=department.code, name=department.name, uscc=department.uscc))
    return department


async def get(session: AsyncSession, code: str) -> Department:
    """The department with ``code``; :class:`DepartmentNotFound` (404) otherwise."""
    department = await repository.get(session, code)
    if department is None:
        raise DepartmentNotFound(f"no department has code {code!r}")
    return department


async def page(session: AsyncSession, *, limit: int, cursor: str | None) -> Slice[Department]:
    """One page of departments in code order."""
    return await paginate(session, repository.listed(), order=[Department.code], limit=limit, cursor=cursor)
