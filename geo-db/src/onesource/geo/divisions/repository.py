"""Every SQL statement of the divisions domain: dated lookups with the parent on the same date, and loading."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.geo.models import Division, DivisionLoad


def _holds(table: Any, on: date) -> ColumnElement[bool]:
    """The name held on ``on`` (``valid_from`` inclusive, ``valid_to`` exclusive, ``NULL`` unbounded)."""
    return and_(
        or_(table.valid_from.is_(None), table.valid_from <= on),
        or_(table.valid_to.is_(None), table.valid_to > on),
    )


def dated(on: date) -> Select[Any]:
    """Every division of ``on`` with its parent then: the nearest code above it that existed on the same date.

    Core, not ORM, so that the columns of a query built on it are the ones its rows are keyed by (``children``).
    """
    division = Division.__table__
    above = division.alias("above")
    candidates = (func.left(division.c.code, 4) + literal("00"), func.left(division.c.code, 2) + literal("0000"))
    parent = (
        select(above.c.code)
        .where(above.c.code.in_(candidates), above.c.code != division.c.code, _holds(above.c, on))
        .order_by(above.c.code.desc())
        .limit(1)
        .lateral("parent")
    )
    return (
        select(
            division.c.code,
            division.c.name,
            division.c.level,
            parent.c.code.label("parent"),
            division.c.valid_from,
            division.c.valid_to,
        )
        .outerjoin(parent, literal(True))
        .where(_holds(division.c, on))
    )


async def on_date(session: AsyncSession, code: str, on: date) -> Any | None:
    """The division ``code`` was on ``on`` (a row with its parent), or ``None``."""
    return (await session.execute(dated(on).where(Division.__table__.c.code == code))).first()


def children(on: date, *, parent: str | None, level: str | None) -> tuple[Select[Any], Any]:
    """The divisions of ``on`` and the code column that orders them.

    Only the direct children of ``parent`` and of ``level`` when given.
    """
    division = Division.__table__
    statement = dated(on)
    if level is not None:
        statement = statement.where(division.c.level == level)
    if parent is not None:
        statement = statement.where(func.left(division.c.code, 2) == parent[:2])
    inner = statement.subquery("divisions")
    found = select(inner)
    if parent is not None:
        found = found.where(inner.c.parent == parent)  # the parent on the date, computed above
    return found, inner.c.code


async def names(session: AsyncSession, code: str) -> Sequence[Division]:
    """Every name ``code`` had, oldest first."""
    found = await session.scalars(
        select(Division).where(Division.code == code).order_by(Division.valid_from.asc().nulls_first())
    )
    return found.all()


async def lock_loading(session: AsyncSession) -> None:
    """Serialise loads across the registry's processes until the transaction ends."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended("onesource.geo.divisions", 0))))


async def loaded_digest(session: AsyncSession) -> str | None:
    """The digest of the data the table holds, ``None`` before the first load."""
    return (await session.execute(select(DivisionLoad.digest).where(DivisionLoad.id == 1))).scalar_one_or_none()


async def all_names(session: AsyncSession) -> Sequence[Any]:
    """Every row of the table (code, name, valid_from, valid_to)."""
    rows = await session.execute(select(Division.code, Division.name, Division.valid_from, Division.valid_to))
    return rows.all()


async def replace(session: AsyncSession, codes: Sequence[str], rows: Sequence[dict[str, Any]], digest: str) -> None:
    """Replace the names of ``codes`` by ``rows`` and record ``digest`` as the data the table now holds."""
    for start in range(0, len(codes), 5000):
        await session.execute(delete(Division).where(Division.code.in_(codes[start : start + 5000])))
    if rows:
        await session.execute(insert(Division), list(rows))
    await session.merge(DivisionLoad(id=1, digest=digest, loaded_at=func.now()))
    await session.flush()
