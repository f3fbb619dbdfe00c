"""Every SQL statement of grants."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.exchange.models import AccessGrant


async def get(session: AsyncSession, grant_id: str, *, for_update: bool = False) -> AccessGrant | None:
    """The grant with ``grant_id`` (locked for the transaction when ``for_update``)."""
    statement = select(AccessGrant).where(AccessGrant.id == grant_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


def listed(
    *, visible: ColumnElement[bool] | None, resource: str | None, status: str | None, department: str | None
) -> Select[tuple[AccessGrant]]:
    """The grants the filters select (the caller orders and pages them)."""
    statement = select(AccessGrant)
    if visible is not None:
        statement = statement.where(visible)
    if resource is not None:
        statement = statement.where(AccessGrant.resource == resource)
    if status is not None:
        statement = statement.where(AccessGrant.status == status)
    if department is not None:
        statement = statement.where(AccessGrant.department == department)
    return statement


async def active_for(session: AsyncSession, department: str, resource: str, now: datetime) -> Sequence[AccessGrant]:
    """The department's grants on ``resource`` that are in force at ``now``, newest first."""
    statement = (
        select(AccessGrant)
        .where(
            AccessGrant.department == department,
            AccessGrant.resource == resource,
            AccessGrant.status == "active",
            AccessGrant.valid_from <= now,
            AccessGrant.valid_until > now,
        )
        .order_by(AccessGrant.id.desc())
    )
    return (await session.scalars(statement)).all()


async def lapsed(session: AsyncSession, now: datetime) -> Sequence[AccessGrant]:
    """Active grants whose validity ended by ``now``, locked (skipping ones another sweep holds)."""
    statement = (
        select(AccessGrant)
        .where(AccessGrant.status == "active", AccessGrant.valid_until <= now)
        .order_by(AccessGrant.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).all()
