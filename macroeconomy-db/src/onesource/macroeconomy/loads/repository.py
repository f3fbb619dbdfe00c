"""Every SQL statement of loads: the dataflow's lock, series, the vintage row, and observations by ``COPY``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit.db import copy_text, copy_text_rows
from onesource.kit.telemetry import request_id_var
from onesource.macroeconomy.models import Series, Vintage

#: Namespace of the per-dataflow advisory lock (first half of the two-int key): loads and releases of one dataflow
#: happen one at a time, so vintage numbers follow the order their loads commit in.
_FLOW_LOCK = 0x4D_41_43


async def lock_flow(session: AsyncSession, flow_id: str) -> None:
    """Hold the dataflow's lock until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:flow))"), {"namespace": _FLOW_LOCK, "flow": flow_id}
    )


async def now(session: AsyncSession) -> datetime:
    """The transaction's timestamp."""
    return (await session.execute(select(func.now()))).scalar_one()


async def clock(session: AsyncSession) -> datetime:
    """The database's clock as the statement runs (a release pass compares it with release times)."""
    moment: datetime = (await session.execute(select(func.clock_timestamp()))).scalar_one()
    return moment


async def series_of(session: AsyncSession, flow_id: str, keys: Sequence[str]) -> dict[str, Series]:
    """The dataflow's series among ``keys``, by key."""
    rows = await session.scalars(select(Series).where(Series.flow_id == flow_id, Series.key.in_(list(keys))))
    return {row.key: row for row in rows}


async def add_vintage(session: AsyncSession, **columns: Any) -> Vintage:
    """Insert a vintage; its id is the next in load order."""
    vintage = Vintage(request_id=request_id_var.get(), **columns)
    session.add(vintage)
    await session.flush()
    await session.refresh(vintage)
    return vintage


async def add_series(
    session: AsyncSession, flow_id: str, new: Sequence[tuple[str, Sequence[str], dict[str, str]]], vintage: int
) -> dict[str, int]:
    """Insert new series (key, dimension values, series attributes); their ids by key."""
    if not new:
        return {}
    result = await session.execute(
        text(
            "INSERT INTO series (flow_id, key, dimensions, attributes, created_vintage) "
            "SELECT :flow, k, string_to_array(d, '.'), a::jsonb, :vintage "
            "FROM unnest(CAST(:keys AS text[]), CAST(:dims AS text[]), CAST(:attrs AS text[])) AS t(k, d, a) "
            "RETURNING id, key"
        ),
        {
            "flow": flow_id,
            "vintage": vintage,
            "keys": [key for key, _, _ in new],
            "dims": [".".join(values) for _, values, _ in new],
            "attrs": [_json(attributes) for _, _, attributes in new],
        },
    )
    return {row.key: row.id for row in result}


def _json(attributes: dict[str, str]) -> str:
    import json

    return json.dumps(attributes, ensure_ascii=False, sort_keys=True)


OBSERVATION_COLUMNS = ("series_id", "time_period", "vintage_id", "period_start", "period_end", "value", "status")


def observation_line(
    series_id: int, period: str, vintage: int, start: str, end: str, value: float | None, status: str
) -> str:
    """One observation as a line of ``COPY … (FORMAT text)`` data."""
    number = "\\N" if value is None else repr(value)
    return f"{series_id}\t{copy_text(period)}\t{vintage}\t{start}\t{end}\t{number}\t{status}\n"


async def copy_observations(session: AsyncSession, lines: Sequence[str]) -> None:
    """``COPY`` observation lines into the table, in the session's transaction."""
    await copy_text_rows(session, "observation", OBSERVATION_COLUMNS, lines)


async def settle_statuses(session: AsyncSession, vintage: int) -> None:
    """Observations loaded without a status (left empty): ``R`` where they change the latest earlier value, else A."""
    await session.execute(
        text(
            "UPDATE observation o SET status = CASE WHEN EXISTS ("
            "  SELECT 1 FROM observation p WHERE p.series_id = o.series_id AND p.time_period = o.time_period"
            "  AND p.vintage_id < o.vintage_id) AND ("
            "  SELECT p.value FROM observation p WHERE p.series_id = o.series_id AND p.time_period = o.time_period"
            "  AND p.vintage_id < o.vintage_id ORDER BY p.vintage_id DESC LIMIT 1"
            ") IS DISTINCT FROM o.value THEN 'R' ELSE 'A' END "
            "WHERE o.vintage_id = :vintage AND o.status = ''"
        ),
        {"vintage": vintage},
    )


REVISED = text(
    "SELECT s.key, s.dimensions, array_agg(o.time_period ORDER BY o.period_start) AS periods "
    "FROM observation o JOIN series s ON s.id = o.series_id "
    "WHERE o.vintage_id = :vintage AND s.created_vintage < :vintage AND ("
    "  SELECT p.value FROM observation p WHERE p.series_id = o.series_id AND p.time_period = o.time_period"
    "  AND p.vintage_id < o.vintage_id ORDER BY p.vintage_id DESC LIMIT 1"
    ") IS DISTINCT FROM o.value AND EXISTS ("
    "  SELECT 1 FROM observation p WHERE p.series_id = o.series_id AND p.time_period = o.time_period"
    "  AND p.vintage_id < o.vintage_id"
    ") GROUP BY s.key, s.dimensions ORDER BY s.key"
)


async def revised(session: AsyncSession, vintage: int) -> list[Any]:
    """The series whose values ``vintage`` revised (the latest earlier value differs): key, dimensions, periods."""
    return list((await session.execute(REVISED, {"vintage": vintage})).all())
