"""Data queries as SDMX REST defines them (SDMX 3.0 Section 7, data queries), over vintages.

Which vintages a reader sees, at ``asOf`` (default: now):

- a reader without pre-release access sees a vintage once it is released: ``release_at`` ≤ the time asked about
  (and ≤ now: ``asOf`` in the future shows nothing not yet released);
- the owner, or the gateway for a department with pre-release access, sees every vintage loaded by then, and
  observations of vintages still embargoed carry ``EMBARGO_TIME`` (their ``release_at``).

Of the vintages seen, ``updatedAfter`` keeps those that became visible after it (released after it; for pre-release
readers, loaded after it). Each observation is answered from the latest vintage kept that holds it; with
``includeHistory`` from every such vintage, each in its own data set. ``startPeriod`` / ``endPeriod`` keep the
observations whose periods overlap them; ``lastNObservations`` the last N periods of each series.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit.errors import BadRequest, NotFound
from onesource.macroeconomy.data import repository
from onesource.macroeconomy.data.repository import SeriesAnswer
from onesource.macroeconomy.dataflows.definitions import Dataflow
from onesource.macroeconomy.dependencies import DataReader
from onesource.macroeconomy.models import Vintage
from onesource.macroeconomy.series.keys import MalformedKey, parse_query
from onesource.macroeconomy.series.periods import PeriodError, parse_any


class NoResults(NotFound):
    """The query matches no observation the reader may see (404, as SDMX REST answers it)."""

    type = "no-results"
    title = "No results"


class MalformedQuery(BadRequest):
    """The key or a parameter is not one of the dataflow's (400)."""

    type = "malformed-query"
    title = "Malformed data query"


@dataclass(frozen=True, slots=True)
class DataQuery:
    """A data query's parameters."""

    key: str
    start_period: str | None = None
    end_period: str | None = None
    updated_after: datetime | None = None
    as_of: datetime | None = None
    last_n: int | None = None
    include_history: bool = False
    dimension_at_observation: str = "TIME_PERIOD"


@dataclass(frozen=True, slots=True)
class DataAnswer:
    """What a query found: the data sets (one, or one per vintage with ``includeHistory``) and how to lay them out."""

    flow: Dataflow
    datasets: list[tuple[Vintage | None, list[SeriesAnswer]]]
    """Each data set's series in key order."""
    embargoed: Mapping[int, datetime]
    """``release_at`` of the answer's vintages not yet released, by vintage id (``EMBARGO_TIME``)."""
    dimension_at_observation: str
    prepared: datetime

    def observation_count(self) -> int:
        """How many observations the answer holds."""
        return sum(len(series.periods) for _, found in self.datasets for series in found)


def _visible(vintage: Vintage, reader: DataReader, at: datetime, now: datetime) -> bool:
    if reader.prerelease:
        return vintage.loaded_at <= at
    return vintage.loaded_at <= at and vintage.release_at <= min(at, now)


def _became_visible(vintage: Vintage, reader: DataReader) -> datetime:
    return vintage.loaded_at if reader.prerelease else max(vintage.release_at, vintage.loaded_at)


def _period_bounds(query: DataQuery) -> tuple[date, date]:
    try:
        start = parse_any(query.start_period).start if query.start_period else date.min
        end = parse_any(query.end_period).end if query.end_period else date.max
    except PeriodError as error:
        raise MalformedQuery(
            str(error), invalid_params=[{"name": "query.startPeriod/endPeriod", "reason": str(error)}]
        ) from None
    return start, end


def _check_layout(flow: Dataflow, dimension: str) -> None:
    allowed = {"TIME_PERIOD", "AllDimensions", *(d.id for d in flow.structure.dimensions)}
    if dimension not in allowed:
        raise MalformedQuery(
            f"dimensionAtObservation {dimension!r} is not TIME_PERIOD, AllDimensions or a dimension of {flow.id}"
        )


async def query(
    session: AsyncSession,
    flow: Dataflow,
    query: DataQuery,
    reader: DataReader,
    now: datetime,
    helpers: asyncpg.Pool | None = None,
) -> DataAnswer:
    """The observations ``query`` selects that ``reader`` may see; :class:`NoResults` when none.

    ``helpers``: connections that may read half of a large answer meanwhile (``repository.observations``).
    """
    dimensions = [dimension.id for dimension in flow.structure.dimensions]
    try:
        selection = parse_query(query.key, dimensions)
    except MalformedKey as error:
        raise MalformedQuery(str(error), invalid_params=[{"name": "path.key", "reason": str(error)}]) from None
    _check_layout(flow, query.dimension_at_observation)
    start, end = _period_bounds(query)
    at = query.as_of or now
    seen = [v for v in await repository.vintages(session, flow.id) if _visible(v, reader, at, now)]
    if query.updated_after is not None:
        seen = [v for v in seen if _became_visible(v, reader) > query.updated_after]
    series = await repository.series(session, flow.id, selection) if seen else []
    if not series:
        raise NoResults(f"no observations of {flow.id} match {query.key!r} for this reader")
    vintages = {vintage.id: vintage for vintage in seen}
    embargoed = {vintage.id: vintage.release_at for vintage in seen if vintage.release_at > now}
    found = await repository.observations(
        session,
        series,
        list(vintages),
        start,
        end,
        history=query.include_history,
        with_vintages=bool(embargoed),
        helpers=helpers,
    )
    if not found:
        raise NoResults(f"no observations of {flow.id} match {query.key!r} for this reader")
    answered = found if query.last_n is None else [_last(answer, query.last_n) for answer in found]
    if query.include_history:
        grouped: dict[int, list[SeriesAnswer]] = defaultdict(list)
        for answer in answered:
            grouped[answer.vintage].append(answer)
        datasets: list[tuple[Vintage | None, list[SeriesAnswer]]] = [
            (vintages[vintage_id], found_) for vintage_id, found_ in sorted(grouped.items())
        ]
    else:
        datasets = [(None, answered)]
    return DataAnswer(flow, datasets, embargoed, query.dimension_at_observation, now)


def _last(found: SeriesAnswer, last_n: int) -> SeriesAnswer:
    """The series' last ``last_n`` periods."""
    if last_n >= len(found.periods):
        return found
    return SeriesAnswer(
        found.series,
        found.vintage,
        found.periods[-last_n:],
        found.values[-last_n:],
        found.statuses[-last_n:],
        found.vintages[-last_n:],
    )
