"""Data queries: ``GET /v1/data/{flow}/{key}`` (SDMX REST), answered as SDMX-JSON 2.0 or SDMX-CSV 2.0 by ``Accept``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Header, Path, Query, Request, Response

from onesource.kit.collector import COLLECTOR_PAUSE
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.macroeconomy.data import service
from onesource.macroeconomy.data.errors import NotAcceptable
from onesource.macroeconomy.data.sdmx_csv import data_csv
from onesource.macroeconomy.data.sdmx_json import data_json
from onesource.macroeconomy.dataflows.dependencies import FlowDep
from onesource.macroeconomy.dependencies import DataReaderDep, NowDep
from onesource.registry.shapes.sdmx import CSV_MEDIA_TYPE, JSON_MEDIA_TYPE

router = APIRouter(prefix="/v1/data", tags=["data"])

_ANSWERS = {
    200: {
        "description": "SDMX-JSON 2.0 (default) or SDMX-CSV 2.0 data message",
        "content": {JSON_MEDIA_TYPE: {"schema": {"type": "object"}}, CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
    },
    **problem_responses(400, 401, 403, 404, 406, 422),
}

KeyPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=2000,
        description="Dimension values in key order, dot-separated; empty = any, `+` = or (`Q..GDP+GDPI.CUR`); `all`.",
    ),
]


def _csv_wanted(accept: str | None) -> bool:
    """Whether ``Accept`` asks for SDMX-CSV: the first media type this registry answers decides (JSON by default)."""
    if not accept:
        return False
    for kind in (part.split(";")[0].strip().lower() for part in accept.split(",")):
        if kind in {"application/vnd.sdmx.data+csv", "text/csv"}:
            return True
        if "json" in kind or kind in {"*/*", "application/*"}:
            return False
    raise NotAcceptable(f"this registry answers {JSON_MEDIA_TYPE} or {CSV_MEDIA_TYPE}")


async def _answer(
    request: Request,
    flow: FlowDep,
    key: str,
    session: SessionDep,
    reader: DataReaderDep,
    now: NowDep,
    accept: str | None,
    start_period: str | None,
    end_period: str | None,
    updated_after: datetime | None,
    last_n: int | None,
    as_of: datetime | None,
    include_history: bool,
    dimension_at_observation: str,
) -> Response:
    csv_wanted = _csv_wanted(accept)
    query = service.DataQuery(
        key=key,
        start_period=start_period,
        end_period=end_period,
        updated_after=updated_after,
        as_of=as_of,
        last_n=last_n,
        include_history=include_history,
        dimension_at_observation=dimension_at_observation,
    )
    with COLLECTOR_PAUSE:  # the answer is tens of thousands of values in lists, freed by reference counting
        # the read pool lends a connection to read half of a large answer (in tests it is one connection: not lent)
        pool = request.app.state.reader
        helpers = pool if isinstance(pool, asyncpg.Pool) else None
        answer = await service.query(session, flow, query, reader, now, helpers)
        if csv_wanted:
            return Response(data_csv(answer), media_type=CSV_MEDIA_TYPE)
        return Response(data_json(answer), media_type=JSON_MEDIA_TYPE)


StartPeriod = Annotated[
    str | None, Query(alias="startPeriod", max_length=10, description="First period (2015, 2015-Q1, 2015-01 …).")
]
EndPeriod = Annotated[str | None, Query(alias="endPeriod", max_length=10, description="Last period.")]
UpdatedAfter = Annotated[
    datetime | None, Query(alias="updatedAfter", description="Only observations published after this (ISO 8601).")
]
LastN = Annotated[
    int | None, Query(alias="lastNObservations", ge=1, le=100000, description="The last N observations per series.")
]
AsOf = Annotated[datetime | None, Query(alias="asOf", description="The data as it was published at this time.")]
IncludeHistory = Annotated[
    bool, Query(alias="includeHistory", description="Every vintage's values, one data set per vintage.")
]
DimensionAtObservation = Annotated[
    str,
    Query(
        alias="dimensionAtObservation",
        max_length=64,
        description="`TIME_PERIOD` (time series), a dimension id (cross-section) or `AllDimensions` (flat).",
    ),
]
Accept = Annotated[str | None, Header(description=f"`{JSON_MEDIA_TYPE}` (default) or `{CSV_MEDIA_TYPE}`.")]


@router.get("/{flow}/{key}", responses=_ANSWERS, response_class=Response)
async def get_data(
    request: Request,
    flow: FlowDep,
    key: KeyPath,
    session: SessionDep,
    reader: DataReaderDep,
    now: NowDep,
    accept: Accept = None,
    start_period: StartPeriod = None,
    end_period: EndPeriod = None,
    updated_after: UpdatedAfter = None,
    last_n: LastN = None,
    as_of: AsOf = None,
    include_history: IncludeHistory = False,
    dimension_at_observation: DimensionAtObservation = "TIME_PERIOD",
) -> Response:
    """Observations of the series the key selects (SDMX REST data query), as SDMX-JSON 2.0 or SDMX-CSV 2.0."""
    return await _answer(
        request,
        flow,
        key,
        session,
        reader,
        now,
        accept,
        start_period,
        end_period,
        updated_after,
        last_n,
        as_of,
        include_history,
        dimension_at_observation,
    )


@router.get("/{flow}", responses=_ANSWERS, response_class=Response)
async def get_all_data(
    request: Request,
    flow: FlowDep,
    session: SessionDep,
    reader: DataReaderDep,
    now: NowDep,
    accept: Accept = None,
    start_period: StartPeriod = None,
    end_period: EndPeriod = None,
    updated_after: UpdatedAfter = None,
    last_n: LastN = None,
    as_of: AsOf = None,
    include_history: IncludeHistory = False,
    dimension_at_observation: DimensionAtObservation = "TIME_PERIOD",
) -> Response:
    """Every series of the dataflow (the key `all`), as SDMX-JSON 2.0 or SDMX-CSV 2.0."""
    return await _answer(
        request,
        flow,
        "all",
        session,
        reader,
        now,
        accept,
        start_period,
        end_period,
        updated_after,
        last_n,
        as_of,
        include_history,
        dimension_at_observation,
    )
