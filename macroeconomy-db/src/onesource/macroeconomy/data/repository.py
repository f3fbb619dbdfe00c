"""Every SQL statement of data queries: the dataflow's vintages, the series a key selects, their observations.

Series and observations are read with the driver (asyncpg) directly, and observations come one row per series
(with ``includeHistory``: per series and vintage) holding its values and vintages as arrays, its periods and
statuses as comma-separated text: a 10-year query over 1,000 series answers 40,000 observations, and a Python
object per observation would cost more than the query. Each series' observations are read by its primary-key range
(``series_id``, ``time_period``, ``vintage_id``), already in the order ``DISTINCT ON`` needs, so nothing is sorted
but the periods of one series.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit.db import driver_connection
from onesource.macroeconomy.models import Vintage
from onesource.macroeconomy.series.keys import KeyQuery


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """A series as a query answers it: its key, dimension values and series-level attributes."""

    id: int
    key: str
    dimensions: list[str]
    attributes: dict[str, str]


async def vintages(session: AsyncSession, flow_id: str) -> list[Vintage]:
    """Every vintage of the dataflow, in load order."""
    return list(await session.scalars(select(Vintage).where(Vintage.flow_id == flow_id).order_by(Vintage.id)))


async def series(session: AsyncSession, flow_id: str, query: KeyQuery) -> list[SeriesRow]:
    """The dataflow's series the key selects, in key order."""
    conditions = ["flow_id = $1"]
    arguments: list[Any] = [flow_id]
    for position, allowed in enumerate(query.positions, start=1):
        if allowed is not None:
            arguments.append(sorted(allowed))
            # a semi-join, hashed: ``= ANY($n)`` compares each series with the values one by one in the prepared
            # statement's generic plan, which PostgreSQL takes after a few runs (a key selecting 67 areas of 25,000
            # series: 40 ms instead of 8, measured); loads keep the table's statistics fresh for this plan
            conditions.append(f"dimensions[{position}] IN (SELECT unnest(${len(arguments)}::text[]))")
    statement = (
        "SELECT id, key, dimensions, attributes::text AS attributes FROM series "
        f'WHERE {" AND ".join(conditions)} ORDER BY key COLLATE "C"'
    )
    connection = await driver_connection(session)
    return [
        SeriesRow(row["id"], row["key"], row["dimensions"], json.loads(row["attributes"]))
        for row in await connection.fetch(statement, *arguments)
    ]


# Per series (in the order given), its observations in the vintages and period: the latest vintage's value of each
# period, or (history) every vintage's, one row per vintage. The latest ones are read backwards along the primary
# key (period, then vintage, both descending), the order DISTINCT ON needs, and aggregated in that order (the periods
# of one series are of one frequency, so their text order is their time order): nothing is sorted.
_LATEST = (
    "SELECT s.number, 0 AS vintage, o.periods, o.values, o.statuses, o.vintages "
    "FROM unnest($1::bigint[]) WITH ORDINALITY AS s(id, number) CROSS JOIN LATERAL ("
    "  SELECT string_agg(time_period, ',' ORDER BY time_period DESC) AS periods,"
    "    array_agg(value ORDER BY time_period DESC) AS values,"
    "    string_agg(status, ',' ORDER BY time_period DESC) AS statuses,"
    "    array_agg(vintage_id ORDER BY time_period DESC) AS vintages"
    "  FROM (SELECT DISTINCT ON (time_period) time_period, value, status, vintage_id FROM observation"
    "    WHERE series_id = s.id AND vintage_id = ANY($2::int[]) AND period_end >= $3 AND period_start <= $4"
    "    ORDER BY time_period DESC, vintage_id DESC) AS latest"
    ") AS o WHERE o.periods IS NOT NULL ORDER BY s.number"
)
_EVERY = (
    "SELECT s.number, o.vintage, o.periods, o.values, o.statuses, o.vintages "
    "FROM unnest($1::bigint[]) WITH ORDINALITY AS s(id, number) CROSS JOIN LATERAL ("
    "  SELECT vintage_id AS vintage, string_agg(time_period, ',' ORDER BY time_period DESC) AS periods,"
    "    array_agg(value ORDER BY time_period DESC) AS values,"
    "    string_agg(status, ',' ORDER BY time_period DESC) AS statuses,"
    "    array_agg(vintage_id ORDER BY time_period DESC) AS vintages"
    "  FROM observation"
    "  WHERE series_id = s.id AND vintage_id = ANY($2::int[]) AND period_end >= $3 AND period_start <= $4"
    "  GROUP BY vintage_id"
    ") AS o ORDER BY o.vintage, s.number"
)


@dataclass(frozen=True, slots=True)
class SeriesObservations:
    """The observations found of one series (of one vintage, with history), in period order."""

    number: int
    """The series' position in the list asked about (from 0)."""
    vintage: int
    """With history, the vintage they are of; else 0."""
    periods: list[str]
    values: list[float | None]
    statuses: list[str]
    vintages: list[int]
    """The vintage each value is of."""


async def observations(
    session: AsyncSession,
    series_ids: Sequence[int],
    vintage_ids: Sequence[int],
    start: date,
    end: date,
    *,
    history: bool,
) -> list[SeriesObservations]:
    """Observations of the series in the vintages and period: the latest vintage's of each, or every vintage's.

    In series order (with history: by vintage, then series order); series without observations are left out.
    """
    connection = await driver_connection(session)
    rows = await connection.fetch(_EVERY if history else _LATEST, series_ids, vintage_ids, start, end)
    # latest period first, as read: turned round here, where it costs a C loop per series; periods and statuses come
    # as text, comma-separated (neither holds a comma: the loads' checks), split here at half the cost of arrays
    return [
        SeriesObservations(
            row[0] - 1, row[1], row[2].split(",")[::-1], row[3][::-1], row[4].split(",")[::-1], row[5][::-1]
        )
        for row in rows
    ]
