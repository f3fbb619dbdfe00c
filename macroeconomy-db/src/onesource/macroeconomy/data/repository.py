"""Every SQL statement of data queries: the dataflow's vintages, the series a key selects, their observations.

Observations are read with the driver (asyncpg) directly: a 10-year query over 1,000 series returns 40,000 rows,
and ORM rows would cost more than the query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit.db import driver_connection
from onesource.macroeconomy.models import Series, Vintage
from onesource.macroeconomy.series.keys import KeyQuery


async def vintages(session: AsyncSession, flow_id: str) -> list[Vintage]:
    """Every vintage of the dataflow, in load order."""
    return list(await session.scalars(select(Vintage).where(Vintage.flow_id == flow_id).order_by(Vintage.id)))


async def series(session: AsyncSession, flow_id: str, query: KeyQuery) -> list[Series]:
    """The dataflow's series the key selects, in key order."""
    statement = select(Series).where(Series.flow_id == flow_id)
    for position, allowed in enumerate(query.positions, start=1):
        if allowed is not None:
            statement = statement.where(Series.dimensions[position].in_(sorted(allowed)))
    return list(await session.scalars(statement.order_by(Series.key)))


_LATEST = (
    "SELECT DISTINCT ON (series_id, time_period) series_id, time_period, vintage_id, value, status, period_start "
    "FROM observation WHERE series_id = ANY($1::bigint[]) AND vintage_id = ANY($2::int[]) "
    "AND period_end >= $3 AND period_start <= $4 "
    "ORDER BY series_id, time_period, vintage_id DESC"
)
_EVERY = (
    "SELECT series_id, time_period, vintage_id, value, status, period_start "
    "FROM observation WHERE series_id = ANY($1::bigint[]) AND vintage_id = ANY($2::int[]) "
    "AND period_end >= $3 AND period_start <= $4 "
    "ORDER BY vintage_id, series_id, period_start"
)


async def observations(
    session: AsyncSession,
    series_ids: Sequence[int],
    vintage_ids: Sequence[int],
    start: date,
    end: date,
    *,
    history: bool,
) -> list[Any]:
    """Observations of the series in the vintages and period: the latest vintage's of each, or every vintage's."""
    connection = await driver_connection(session)
    return list(await connection.fetch(_EVERY if history else _LATEST, series_ids, vintage_ids, start, end))
