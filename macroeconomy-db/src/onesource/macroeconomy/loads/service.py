"""A load: every row checked, then stored whole as a new vintage (or nothing at all), released now or at ``release_at``.

One bad row refuses the whole load (422, each problem with its line and column) and nothing of it stays: a CSV
load is checked and written block by block inside a savepoint (:func:`load_csv`), undone when a row is refused.
Observations are appended under the new vintage by ``COPY``; no earlier value is touched.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit.auth import Principal
from onesource.macroeconomy.dataflows.definitions import Dataflow
from onesource.macroeconomy.loads import repository
from onesource.macroeconomy.loads.checking import (
    MAX_PROBLEMS,
    CheckedLoad,
    CheckedObservation,
    LoadedSeries,
    RowChecker,
    RowProblem,
)
from onesource.macroeconomy.loads.columns import CheckedBlock
from onesource.macroeconomy.loads.errors import InvalidLoad
from onesource.macroeconomy.loads.parsing import Row, UnreadableLoad, csv_rows, json_rows
from onesource.macroeconomy.loads.quick import QuickCsv, quick_csv
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


#: Rows checked and loaded at a time: the next block is checked (in a thread) while the database loads one.
BLOCK_ROWS = 100_000
#: The first block's rows: few, so that the database has work while the interpreter checks the next.
FIRST_BLOCK_ROWS = 20_000


def _conflicts(series: list[LoadedSeries], existing: Mapping[str, repository.KnownSeries]) -> list[RowProblem]:
    """Series-level attributes a load gives otherwise than the registry's series have them."""
    problems = []
    for found in series:
        known = existing.get(found.key)
        if known is None:
            continue
        for name, value in found.attributes.items():
            if known.attributes.get(name) not in (None, value):
                problems.append(
                    RowProblem(
                        found.line,
                        None,
                        name,
                        f"series {found.key} has {name} {known.attributes[name]!r}; a load cannot change it",
                    )
                )
    return problems


class _Storing:
    """Stores the checked blocks of one load, in order, under its vintage."""

    def __init__(self, session: AsyncSession, flow: Dataflow, vintage: Vintage) -> None:
        self.session = session
        self.flow = flow
        self.vintage = vintage
        self.series_ids: list[int] = []
        """Of each series of the load, by its number."""
        self.observations = 0
        self.revised = 0
        self.created = 0
        """Series the load added to the registry."""
        self.problems: list[RowProblem] = []
        self._revising = False

    async def store(self, block: CheckedBlock) -> None:
        """Write the block's new series and its observations (after a problem: only look for more problems)."""
        if not len(block):
            return  # empty lines only
        session, vintage = self.session, self.vintage
        keys = [series.key for series in block.series]
        existing = await repository.series_of(session, self.flow.id, keys) if keys else {}
        self.problems.extend(_conflicts(block.series, existing))
        if self.problems:
            return
        new = [(s.key, s.dimensions, s.attributes) for s in block.series if s.key not in existing]
        created = await repository.add_series(session, self.flow.id, new, vintage.id)
        self.created += len(created)
        self.series_ids.extend(existing[key].id if key in existing else created[key] for key in keys)
        self.observations += len(block)
        # from the first series the registry has, statuses left to it are settled against the earlier vintages
        # as the rows go in; before, every row is of a new series: nothing earlier to revise, its status is A
        self._revising = self._revising or bool(existing)
        # built in a thread (tens of milliseconds a block): the event loop stays free for other requests meanwhile
        rows = await asyncio.to_thread(
            repository.observation_copy, self.series_ids, vintage.id, block, undecided="" if self._revising else "A"
        )
        if self._revising:
            self.revised += await repository.insert_settled(session, rows, vintage.id)
        else:
            await repository.copy_observations(session, rows)


async def _begin(
    session: AsyncSession, flow: Dataflow, format: str, release_at: datetime | None, by: Principal
) -> tuple[_Storing, datetime]:
    """The dataflow locked and the load's vintage added (counts follow when it is stored): how to store it, now."""
    await repository.lock_flow(session, flow.id)
    now = await repository.now(session)
    embargoed = release_at is not None and release_at > now
    vintage = await repository.add_vintage(
        session,
        flow_id=flow.id,
        format=format,
        loaded_by=by.client_id,
        department=by.department,
        release_at=release_at if embargoed else now,
        series_count=0,
        observation_count=0,
        revised_count=0,
    )
    return _Storing(session, flow, vintage), now


async def _finish(storing: _Storing, now: datetime) -> Vintage:
    """Refuse the load for its conflicts, or count it and release it unless embargoed."""
    if storing.problems:
        raise InvalidLoad(storing.problems[:MAX_PROBLEMS])
    vintage = storing.vintage
    vintage.series_count = len(storing.series_ids)
    vintage.observation_count = storing.observations
    vintage.revised_count = storing.revised
    if vintage.release_at <= now:
        await releases.release(storing.session, vintage, now)
    if storing.created:
        await repository.analyze_series(storing.session)
    await repository.analyze_observations(storing.session, storing.observations)
    await storing.session.flush()
    return vintage


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
    storing, now = await _begin(session, flow, format, release_at, by)
    await storing.store(CheckedBlock.of(observations))
    return await _finish(storing, now)


async def load_csv(
    session: AsyncSession, flow: Dataflow, text: str, *, release_at: datetime | None, by: Principal
) -> Vintage:
    """Check and store an SDMX-CSV 2.0 load as a new vintage of ``flow`` (every row checked, or nothing stored).

    The quick check (``loads.quick``) reads it a block at a time, each block checked in a thread while the one
    before loads: the database and the interpreter work at the same time. Where the quick check cannot accept a
    row, or the observation table's primary key refuses a series and period given twice, what it stored is rolled
    back (a savepoint) and the load is checked again row by row (:func:`check_csv`): refused with every problem, or
    stored whole.
    """
    # it reads the header (and the first rows); a series and period given twice are left to the observation table's key
    quick = await asyncio.to_thread(QuickCsv, text, flow, repeats=False)
    if quick.usable:
        savepoint = await session.begin_nested()
        try:
            vintage = await _load_quickly(session, flow, quick, release_at, by)
        except BaseException:
            await savepoint.rollback()
            raise
        if vintage is not None:
            await savepoint.commit()
            return vintage
        await savepoint.rollback()
    checked = await asyncio.to_thread(check_csv, text, flow)
    return await load(session, flow, checked, format="sdmx-csv", release_at=release_at, by=by)


async def _load_quickly(
    session: AsyncSession, flow: Dataflow, quick: QuickCsv, release_at: datetime | None, by: Principal
) -> Vintage | None:
    storing, now = await _begin(session, flow, "sdmx-csv", release_at, by)
    pending: asyncio.Future[CheckedBlock | None] | None = asyncio.ensure_future(
        asyncio.to_thread(quick.block, min(BLOCK_ROWS, FIRST_BLOCK_ROWS))
    )
    try:
        while pending is not None:
            block = await pending
            if block is None:
                return None
            pending = None if quick.finished else asyncio.ensure_future(asyncio.to_thread(quick.block, BLOCK_ROWS))
            try:
                await storing.store(block)
            except repository.RepeatedObservation:
                return None  # the row-by-row check finds and words the repeat
    finally:
        if pending is not None:  # a failed store: let the block in flight finish (its thread cannot be stopped)
            await asyncio.wait([pending])
            if not pending.cancelled():
                pending.exception()
    if not storing.observations and not storing.problems:
        return None  # nothing but a header: refused, in RowChecker's words
    return await _finish(storing, now)
