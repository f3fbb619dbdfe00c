"""Divisions by date: one code as it was on a day, the children of a division on a day, every name of a code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.geo.divisions import repository
from onesource.geo.divisions.errors import DivisionNotFound
from onesource.geo.models import Division as DivisionRow
from onesource.kit.pagination import Slice, paginate


def _why_missing(code: str, names: Sequence[DivisionRow], on: date) -> str:
    if not names:
        return f"{code} is not a GB/T 2260 division code"
    ended = [name for name in names if name.valid_to is not None and name.valid_to <= on]
    if ended and all(name.valid_from is None or name.valid_from < on for name in names):
        last = ended[-1]
        return f"{code} ({last.name}) was abolished on {last.valid_to}, before {on}"
    first = names[0]
    return f"{code} ({first.name}) was created on {first.valid_from}, after {on}"


async def get(session: AsyncSession, code: str, on: date) -> Any:
    """The division ``code`` was on ``on``; :class:`DivisionNotFound` (404) saying when it existed, if ever."""
    found = await repository.on_date(session, code, on)
    if found is None:
        raise DivisionNotFound(_why_missing(code, await repository.names(session, code), on))
    return found


async def search(
    session: AsyncSession, on: date, *, parent: str | None, level: str | None, limit: int, cursor: str | None
) -> Slice[Any]:
    """One page of the divisions of ``on`` (children of ``parent``, of ``level``), in code order."""
    statement, code = repository.children(on, parent=parent, level=level)
    return await paginate(session, statement, order=[code], limit=limit, cursor=cursor, rows=True)


async def history(session: AsyncSession, code: str) -> Sequence[DivisionRow]:
    """Every name ``code`` had, oldest first; 404 for a code never listed."""
    names = await repository.names(session, code)
    if not names:
        raise DivisionNotFound(f"{code} is not a GB/T 2260 division code")
    return names
