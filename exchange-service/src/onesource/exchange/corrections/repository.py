"""Every SQL statement of corrections."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.exchange.models import Correction


async def get(session: AsyncSession, correction_id: str, *, for_update: bool = False) -> Correction | None:
    """The report (locked when ``for_update``)."""
    statement = select(Correction).where(Correction.id == correction_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


def listed(
    *, visible: ColumnElement[bool] | None, status: str | None, resource: str | None
) -> Select[tuple[Correction]]:
    """The correction reports the filters select (the caller orders and pages them)."""
    statement = select(Correction)
    if visible is not None:
        statement = statement.where(visible)
    if status is not None:
        statement = statement.where(Correction.status == status)
    if resource is not None:
        statement = statement.where(Correction.resource == resource)
    return statement
