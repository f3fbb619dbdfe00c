"""Every SQL statement of corrections."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.exchange.models import Correction


async def get(session: AsyncSession, correction_id: str, *, for_update: bool = False) -> Correction | None:
    """The report (locked when ``for_update``)."""
    statement = select(Correction).where(Correction.id == correction_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def page(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool] | None,
    status: str | None,
    resource: str | None,
    after: str | None,
    limit: int,
) -> Sequence[Correction]:
    """Up to ``limit`` reports in id order after ``after``."""
    statement = select(Correction).order_by(Correction.id).limit(limit)
    if visible is not None:
        statement = statement.where(visible)
    if status is not None:
        statement = statement.where(Correction.status == status)
    if resource is not None:
        statement = statement.where(Correction.resource == resource)
    if after is not None:
        statement = statement.where(Correction.id > after)
    return (await session.scalars(statement)).all()
