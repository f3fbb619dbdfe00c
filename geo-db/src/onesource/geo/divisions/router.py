"""Division endpoints: ``/v1/divisions`` (through the gateway ``/api/geo/v1/divisions``), GB/T 2260 by date."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from onesource.geo.dependencies import TodayDep
from onesource.geo.divisions import service
from onesource.geo.divisions.schemas import Division, DivisionName, Level
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.pagination import Cursor, Limit, Page
from onesource.registry.access import ReaderDep

router = APIRouter(prefix="/v1/divisions", tags=["divisions"])

CodePath = Annotated[str, Path(pattern=r"^\d{6}$", description="Six-digit GB/T 2260 division code.")]
DateQuery = Annotated[date | None, Query(alias="date", description="The day asked about (default: today).")]


@router.get("", responses=problem_responses(401, 403, 422))
async def list_divisions(
    session: SessionDep,
    reader: ReaderDep,
    today: TodayDep,
    parent: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="Only the divisions directly under this one.")
    ] = None,
    level: Annotated[Level | None, Query(description="Only divisions of this level.")] = None,
    on: DateQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[Division]:
    """The divisions of a date, in code order: the children of ``parent``, of ``level``."""
    found = await service.search(session, on or today, parent=parent, level=level, limit=limit, cursor=cursor)
    return Page[Division].model_validate(found, from_attributes=True)


@router.get("/{code}", responses=problem_responses(401, 403, 404, 422))
async def get_division(
    code: CodePath, session: SessionDep, reader: ReaderDep, today: TodayDep, on: DateQuery = None
) -> Division:
    """One division as it was on ``date`` (default today), with its parent on that date; 404 says when it existed."""
    return Division.model_validate(await service.get(session, code, on or today))


@router.get("/{code}/history", responses=problem_responses(401, 403, 404, 422))
async def division_history(code: CodePath, session: SessionDep, reader: ReaderDep) -> Page[DivisionName]:
    """Every name the code had, oldest first, with the dates each held."""
    names = await service.history(session, code)
    return Page[DivisionName](items=[DivisionName.model_validate(name) for name in names], next_cursor=None)
