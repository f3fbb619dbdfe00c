"""Every SQL statement of data queries: the dataflow's vintages, the series a key selects, their observations.

Series and observations are read with the driver (asyncpg) directly, and observations come one row per series
(with ``includeHistory``: per series and vintage) holding its vintages as an array, its periods, values and
statuses as comma-separated text: a 10-year query over 1,000 series answers 40,000 observations, and a Python
object per observation would cost more than the query. Each series' observations are read by its primary-key range
(``series_id``, ``time_period``, ``vintage_id``), already in the order ``DISTINCT ON`` needs, so nothing is sorted
but the periods of one series.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit.db import driver_connection
from onesource.macroeconomy.models import Vintage
from onesource.macroeconomy.series.keys import KeyQuery


# Not frozen, as the answer's other carriers: a frozen dataclass sets each field through ``object.__setattr__``, and
# a large answer makes thousands of them (a fifth of rendering 1,000 series, measured).
@dataclass(slots=True)
class SeriesRow:
    """A series as a query answers it: its key, dimension values and series-level attributes."""

    id: int
    key: str
    dimensions: list[str]
    attributes: dict[str, str]


async def vintages(session: AsyncSession, flow_id: str) -> list[Vintage]:
    """Every vintage of the dataflow, in load order."""
    return list(await session.scalars(select(Vintage).where(Vintage.flow_id == flow_id).order_by(Vintage.id)))


#: At most this many key ranges per query (the product of the leading positions' values); beyond, fewer positions.
MAX_KEY_RANGES = 2_000


def key_ranges(query: KeyQuery) -> tuple[list[str], list[str], int] | None:
    """The key index ranges the key's leading values select: their low and high ends, and how many positions.

    ``Q.110101+110102..`` selects the keys from ``Q.110101.`` up to ``Q.110101/`` (the character after the dot),
    and from ``Q.110102.`` up to ``Q.110102/``: each a range of the byte-ordered key index. A key fixing every
    position gives the keys themselves (high end: the key and a U+0001, as no key holds a NUL).
    ``None`` when fewer than two leading positions are given: the dataflow's first dimension (mostly its frequency)
    alone hardly narrows anything, and a scan of the series is then cheaper than a range of nearly all of them.
    """
    leading: list[list[str]] = []
    count = 1
    for allowed in query.positions:
        if allowed is None or count * len(allowed) > MAX_KEY_RANGES:
            break
        count *= len(allowed)
        leading.append(sorted(allowed))
    if len(leading) < 2:
        return None
    whole = len(leading) == len(query.positions)
    prefixes = [".".join(values) for values in itertools.product(*leading)]
    if whole:
        return prefixes, [prefix + "\x01" for prefix in prefixes], len(leading)
    return [prefix + "." for prefix in prefixes], [prefix + "/" for prefix in prefixes], len(leading)


async def series(session: AsyncSession, flow_id: str, query: KeyQuery) -> list[SeriesRow]:
    """The dataflow's series the key selects, in key order."""
    arguments: list[Any] = [flow_id]
    ranges = key_ranges(query)
    covered = 0
    source = "series"
    conditions = ["flow_id = $1"]
    if ranges is not None:
        low, high, covered = ranges
        arguments += [low, high]
        # each range read from the key index (keys are byte-ordered: ``models.Series.key``)
        source = "unnest($2::text[], $3::text[]) AS r(low, high) JOIN series ON key >= r.low AND key < r.high"
    for position, allowed in enumerate(query.positions, start=1):
        if allowed is not None and position > covered:
            arguments.append(sorted(allowed))
            # a semi-join, hashed: ``= ANY($n)`` compares each series with the values one by one in the prepared
            # statement's generic plan, which PostgreSQL takes after a few runs (a key selecting 67 areas of 25,000
            # series: 40 ms instead of 8, measured); loads keep the table's statistics fresh for this plan
            conditions.append(f"dimensions[{position}] IN (SELECT unnest(${len(arguments)}::text[]))")
    statement = (
        f"SELECT id, key, dimensions, attributes::text AS attributes FROM {source} "
        f"WHERE {' AND '.join(conditions)} ORDER BY key"
    )
    connection = await driver_connection(session)
    parsed: dict[str, dict[str, str]] = {}  # series share a few sets of attributes: each parsed once
    found = []
    for row in await connection.fetch(statement, *arguments):
        text = row["attributes"]
        attributes = parsed.get(text)
        if attributes is None:
            attributes = parsed[text] = json.loads(text)
        found.append(SeriesRow(row["id"], row["key"], row["dimensions"], attributes))
    return found


# Per series (in the order given), its observations in the vintages and period: the latest vintage's value of each
# period, or (history) every vintage's, one row per vintage. The latest ones are read backwards along the primary
# key (period, then vintage, both descending), the order DISTINCT ON needs, and aggregated in that order (the periods
# of one series are of one frequency, so their text order is their time order): nothing is sorted.
def _latest(vintages: str) -> str:
    return (
        "SELECT s.number, 0 AS vintage, o.periods, o.values, o.statuses, o.vintages "
        "FROM unnest($1::bigint[]) WITH ORDINALITY AS s(id, number) CROSS JOIN LATERAL ("
        "  SELECT string_agg(time_period, ',' ORDER BY time_period DESC) AS periods,"
        "    string_agg(coalesce(value::text, 'null'), ',' ORDER BY time_period DESC) AS values,"
        "    string_agg(status, ',' ORDER BY time_period DESC) AS statuses,"
        f"   {vintages} AS vintages"
        "  FROM (SELECT DISTINCT ON (time_period) time_period, value, status, vintage_id FROM observation"
        "    WHERE series_id = s.id AND vintage_id = ANY($2::int[]) AND period_end >= $3 AND period_start <= $4"
        "    ORDER BY time_period DESC, vintage_id DESC) AS latest"
        ") AS o WHERE o.periods IS NOT NULL ORDER BY s.number"
    )


_LATEST = _latest("array_agg(vintage_id ORDER BY time_period DESC)")
#: Without the vintage of each value, which only answers holding embargoed vintages use (``EMBARGO_TIME``).
_LATEST_VALUES = _latest("'{}'::int[]")
_EVERY = (
    "SELECT s.number, o.vintage, o.periods, o.values, o.statuses, o.vintages "
    "FROM unnest($1::bigint[]) WITH ORDINALITY AS s(id, number) CROSS JOIN LATERAL ("
    "  SELECT vintage_id AS vintage, string_agg(time_period, ',' ORDER BY time_period DESC) AS periods,"
    "    string_agg(coalesce(value::text, 'null'), ',' ORDER BY time_period DESC) AS values,"
    "    string_agg(status, ',' ORDER BY time_period DESC) AS statuses,"
    "    array_agg(vintage_id ORDER BY time_period DESC) AS vintages"
    "  FROM observation"
    "  WHERE series_id = s.id AND vintage_id = ANY($2::int[]) AND period_end >= $3 AND period_start <= $4"
    "  GROUP BY vintage_id"
    ") AS o ORDER BY o.vintage, s.number"
)


#: Answers of at least this many series are read in two halves at once (``_in_halves``).
SPLIT_SERIES = 400
#: How long a large answer waits for a second connection before it is read whole on the first (seconds).
HELPER_WAIT = 0.02


async def _in_halves(
    connection: asyncpg.Connection,
    helpers: asyncpg.Pool,
    statement: str,
    ids: list[int],
    vintage_ids: Sequence[int],
    start: date,
    end: date,
) -> list[Any] | None:
    """The rows of ``statement`` read in two halves at once, the second on a helper's connection; ``None``: none free.

    The database reads a large answer on one core while this process waits; two connections read it on two. The
    helper's reads are outside the request's transaction, yet read the same: they are of the vintages given, whose
    observations were committed with them and never change. A helper is waited for briefly only, so a request never
    holds one connection while it waits long for another.
    """
    try:
        helper = await helpers.acquire(timeout=HELPER_WAIT)
    except TimeoutError:
        return None
    try:
        middle = len(ids) // 2
        results: list[list[Any] | BaseException] = await asyncio.gather(
            connection.fetch(statement, ids[:middle], vintage_ids, start, end),
            helper.fetch(statement, ids[middle:], vintage_ids, start, end),
            return_exceptions=True,  # neither connection is left with a statement running when the other fails
        )
    finally:
        await helpers.release(helper)
    halves: list[list[Any]] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        halves.append(result)
    first, second = halves
    # the second half's series are numbered from its own first
    return [*first, *((number + middle, *rest) for number, *rest in second)]


@dataclass(slots=True)
class SeriesAnswer:
    """One series' observations as found (of one vintage, with history), in period order: parallel lists."""

    series: SeriesRow
    vintage: int
    """With history, the vintage they are of; else 0."""
    periods: list[str]
    """Series with the same periods share one list (as do those with the same statuses): answers render it once."""
    values: list[str]
    """As JSON numbers (the database's shortest round-trip text: ``kit.db.server_settings``); ``null`` where none."""
    statuses: list[str]
    vintages: list[int]
    """The vintage each value is of, its ``EMBARGO_TIME`` (empty unless asked for)."""


async def observations(
    session: AsyncSession,
    series: Sequence[SeriesRow],
    vintage_ids: Sequence[int],
    start: date,
    end: date,
    *,
    history: bool,
    with_vintages: bool,
    helpers: asyncpg.Pool | None = None,
) -> list[SeriesAnswer]:
    """Observations of the series in the vintages and period: the latest vintage's of each, or every vintage's.

    In series order (with history: by vintage, then series order); series without observations are left out.
    ``with_vintages``: say the vintage of each value (with history, they do anyway). ``helpers``: a pool whose
    connection may read half of a large answer meanwhile (:func:`_in_halves`).
    """
    connection = await driver_connection(session)
    statement = _EVERY if history else _LATEST if with_vintages else _LATEST_VALUES
    ids = [found.id for found in series]
    rows = None
    if helpers is not None and not history and len(ids) >= SPLIT_SERIES:
        rows = await _in_halves(connection, helpers, statement, ids, vintage_ids, start, end)
    if rows is None:
        rows = await connection.fetch(statement, ids, vintage_ids, start, end)
    # latest period first, as read: turned round here, where it costs a C loop per series; periods, values and
    # statuses come as text, comma-separated (none holds a comma), split here at half the cost of arrays; values
    # written by the database (in C) cost a tenth of Python's float reprs, which the answers would make of them
    shared: dict[str, list[str]] = {}

    def listed(text: str) -> list[str]:
        found = shared.get(text)
        if found is None:
            found = shared[text] = text.split(",")[::-1]
        return found

    return [
        SeriesAnswer(
            series[row[0] - 1],
            row[1],
            listed(row[2]),
            row[3].split(",")[::-1],
            listed(row[4]),
            row[5][::-1] if row[5] else [],
        )
        for row in rows
    ]
