"""The release calendar: ``GET /v1/releases?flow=``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.pagination import Cursor, Limit, Page
from onesource.macroeconomy.dataflows.definitions import DATAFLOWS
from onesource.macroeconomy.dataflows.errors import DataflowNotFound
from onesource.macroeconomy.dependencies import NowDep
from onesource.macroeconomy.releases import service
from onesource.macroeconomy.releases.schemas import Release
from onesource.registry.access import ReaderDep

router = APIRouter(prefix="/v1/releases", tags=["releases"])


@router.get("", responses=problem_responses(401, 403, 404, 422))
async def list_releases(
    session: SessionDep,
    reader: ReaderDep,
    now: NowDep,
    flow: Annotated[str | None, Query(max_length=64, description="Only this dataflow's releases.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[Release]:
    """Past and coming releases (vintages), latest first: when each is or was released, and what it holds."""
    if flow is not None and flow not in DATAFLOWS:
        raise DataflowNotFound(f"no dataflow {flow!r}; there are {', '.join(sorted(DATAFLOWS))}")
    found = await service.calendar(session, flow, now=now, limit=limit, cursor=cursor)
    return Page[Release].model_validate(found, from_attributes=True)
