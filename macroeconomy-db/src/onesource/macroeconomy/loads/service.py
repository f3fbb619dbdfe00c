"""A load: every row checked, then stored whole as a new vintage (or nothing at all), released now or at ``release_at``.

All rows are checked before anything is written; one bad row refuses the whole load (422, each problem with its
line and column). Observations are appended under the new vintage by ``COPY``; no earlier value is touched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit.auth import Principal
from onesource.macroeconomy.dataflows.definitions import Dataflow
from onesource.macroeconomy.loads import repository
from onesource.macroeconomy.loads.checking import MAX_PROBLEMS, CheckedLoad, CheckedObservation, RowChecker, RowProblem
from onesource.macroeconomy.loads.errors import InvalidLoad
from onesource.macroeconomy.loads.parsing import Row, UnreadableLoad, csv_rows, json_rows
from onesource.macroeconomy.loads.quick import quick_csv
from onesource.macroeconomy.models import Vintage
from onesource.macroeconomy.releases import service as releases


def _checked(rows: Iterator[Row | RowProblem], flow: Dataflow) -> list[CheckedObservation]:
    checker = RowChecker(flow)
    accepted: list[CheckedObservation] = []
    problems: list[RowProblem] = []
    for row in rows:
        if isinstance(row, RowProblem):
            problems.append(row)
        else:
            result = checker.check(row.cells, line=row.line, pointer=row.pointer)
            if isinstance(result, list):
                problems.extend(result)
            else:
                accepted.append(result)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise InvalidLoad(problems[:MAX_PROBLEMS])
    if not accepted:
        raise InvalidLoad([RowProblem(None, None, None, "the load holds no observations")])
    return accepted


def check_csv(text: str, flow: Dataflow) -> CheckedLoad:
    """The observations of an SDMX-CSV 2.0 load, every row checked; :class:`InvalidLoad` otherwise."""
    found = quick_csv(text, flow)
    if found is not None:
        return found
    try:  # a row the quick check could not accept: every row again, each problem found and worded
        return CheckedLoad.of(_checked(csv_rows(text, flow), flow))
    except UnreadableLoad as error:
        raise InvalidLoad(error.problems) from None


def check_json(body: bytes, flow: Dataflow) -> CheckedLoad:
    """The observations of an SDMX-JSON 2.0 load, every observation checked; :class:`InvalidLoad` otherwise."""
    try:
        message = json.loads(body)
    except ValueError as error:
        raise InvalidLoad([RowProblem(None, None, None, f"not JSON: {error}")]) from None
    try:
        return CheckedLoad.of(_checked(json_rows(message, flow), flow))
    except UnreadableLoad as error:
        raise InvalidLoad(error.problems) from None


async def load(
    session: AsyncSession,
    flow: Dataflow,
    observations: CheckedLoad,
    *,
    format: str,
    release_at: datetime | None,
    by: Principal,
) -> Vintage:
    """Store checked observations as a new vintage of ``flow``; released now unless ``release_at`` is later."""
    await repository.lock_flow(session, flow.id)
    now = await repository.now(session)
    keys = [series.key for series in observations.series]
    existing = await repository.series_of(session, flow.id, keys)
    problems = []
    for series in observations.series:
        known = existing.get(series.key)
        if known is None:
            continue
        for name, value in series.attributes.items():
            if known.attributes.get(name) not in (None, value):
                problems.append(
                    RowProblem(
                        series.line,
                        None,
                        name,
                        f"series {series.key} has {name} {known.attributes[name]!r}; a load cannot change it",
                    )
                )
    if problems:
        raise InvalidLoad(problems[:MAX_PROBLEMS])
    embargoed = release_at is not None and release_at > now
    vintage = await repository.add_vintage(
        session,
        flow_id=flow.id,
        format=format,
        loaded_by=by.client_id,
        department=by.department,
        release_at=release_at if embargoed else now,
        series_count=len(keys),
        observation_count=len(observations),
        revised_count=0,
    )
    new = [
        (series.key, series.dimensions, series.attributes)
        for series in observations.series
        if series.key not in existing
    ]
    ids = {key: series.id for key, series in existing.items()}
    ids.update(await repository.add_series(session, flow.id, new, vintage.id))
    series_ids = [ids[key] for key in keys]
    if existing:
        # statuses left to the registry are settled against the earlier vintages as the rows go in
        lines = repository.observation_lines(series_ids, vintage.id, observations, undecided="")
        vintage.revised_count = await repository.insert_settled(session, lines, vintage.id)
    else:  # only new series: nothing earlier to revise, a status not loaded is A
        lines = repository.observation_lines(series_ids, vintage.id, observations, undecided="A")
        await repository.copy_observations(session, lines)
    if not embargoed:
        await releases.release(session, vintage, now)
    await session.flush()
    return vintage
