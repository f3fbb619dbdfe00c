"""Every SQL statement of loads: the dataflow's lock, series, the vintage row, and observations by ``COPY``."""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
import numpy as np
import numpy.typing as npt
from sqlalchemy import Text, cast, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit.db import driver_connection
from onesource.kit.telemetry import request_id_var
from onesource.macroeconomy.loads.columns import CheckedBlock
from onesource.macroeconomy.models import Series, Vintage
from onesource.macroeconomy.series.periods import Period

#: Namespace of the per-dataflow advisory lock (first half of the two-int key): loads and releases of one dataflow
#: happen one at a time, so vintage numbers follow the order their loads commit in.
_FLOW_LOCK = 0x4D_41_43
_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"


async def lock_flow(session: AsyncSession, flow_id: str) -> None:
    """Hold the dataflow's lock until the transaction ends; plan the load's statements for the tables as they grow.

    A load runs its statements (series lookups, inserts) once per block on a table it grows meanwhile: a prepared
    statement's generic plan, made when the table looked empty, would scan it whole for each (seconds per block on
    a load of new series, measured); a plan per execution costs a millisecond.
    """
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:flow))"), {"namespace": _FLOW_LOCK, "flow": flow_id}
    )
    await session.execute(text(_CUSTOM_PLANS))


async def now(session: AsyncSession) -> datetime:
    """The transaction's timestamp."""
    return (await session.execute(select(func.now()))).scalar_one()


async def clock(session: AsyncSession) -> datetime:
    """The database's clock as the statement runs (a release pass compares it with release times)."""
    moment: datetime = (await session.execute(select(func.clock_timestamp()))).scalar_one()
    return moment


@dataclass(frozen=True, slots=True)
class KnownSeries:
    """A series already in the registry: its id and series-level attributes."""

    id: int
    attributes: dict[str, str]


async def series_of(session: AsyncSession, flow_id: str, keys: Sequence[str]) -> dict[str, KnownSeries]:
    """The dataflow's series among ``keys``, by key."""
    # joined to the keys rather than filtered by ``key = ANY(:keys)``, which a plan scanning the table would compare
    # with every key, row by row
    given = func.unnest(cast(list(keys), ARRAY(Text))).table_valued("key").render_derived(name="given")
    rows = await session.execute(
        select(Series.key, Series.id, Series.attributes).join(
            given, (Series.flow_id == flow_id) & (Series.key == given.c.key)
        )
    )
    return {row.key: KnownSeries(row.id, row.attributes) for row in rows}


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
    # series share a few sets of attributes: each written as JSON once
    written: dict[tuple[tuple[str, str], ...], str] = {}
    attributes = []
    for _, _, given in new:
        items = tuple(given.items())
        found = written.get(items)
        if found is None:
            found = written[items] = json.dumps(given, ensure_ascii=False, sort_keys=True)
        attributes.append(found)
    driver = await driver_connection(session)  # its records cost less than the ORM's rows, thousands at a time
    # the foreign key to the vintage is checked by a query per row: planned once, not anew each time as the load's
    # statements are planned (``lock_flow``), which cost twice the insert's own work (measured)
    await driver.execute("SET LOCAL plan_cache_mode TO DEFAULT")
    rows = await driver.fetch(
        "INSERT INTO series (flow_id, key, dimensions, attributes, created_vintage) "
        "SELECT $1, k, string_to_array(d, '.'), a::jsonb, $2 "
        "FROM unnest($3::text[], $4::text[], $5::text[]) AS t(k, d, a) RETURNING id, key",
        flow_id,
        vintage,
        [key for key, _, _ in new],
        [".".join(values) for _, values, _ in new],
        attributes,
    )
    await driver.execute(_CUSTOM_PLANS)
    return {key: series_id for series_id, key in rows}


async def analyze_series(session: AsyncSession) -> None:
    """Refresh the series table's statistics (its new rows counted: they are the transaction's own).

    Data queries select series by semi-joins with the key's values (``data.repository.series``): planned without
    statistics, as right after a load of new series until autovacuum's next pass, they run as nested loops over every
    series and value (hundreds of milliseconds for a thousand series of 25,000, measured); a sample of the table
    costs milliseconds.
    """
    await session.execute(text("ANALYZE series"))


#: A load adding at least this share of the observations the table had is followed by ``ANALYZE observation``.
ANALYZE_GROWTH = 0.1


async def analyze_observations(session: AsyncSession, added: int) -> bool:
    """Refresh the observation table's statistics when the load grew it by a tenth or more; whether it did.

    A data query reads each series' periods backwards along the primary key; planned without statistics, as right
    after a first large load until autovacuum's next pass, it reads them by bitmap and sorts each series' rows
    instead (twice as long, measured on 1,000 series). The rule is autovacuum's own (a tenth of the table changed),
    applied at once. A sample of 9,000 rows (statistics target 30) tells how many rows a series has as well as the
    default's 30,000 at a third of the cost (a million rows: 66 ms against 200, measured); autovacuum's next pass
    takes the full sample.
    """
    known = (
        await session.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'observation'::regclass"))
    ).scalar_one()
    if known >= 0 and added < ANALYZE_GROWTH * known:
        return False
    await session.execute(text("SET LOCAL default_statistics_target = 30"))
    await session.execute(text("ANALYZE observation"))
    await session.execute(text("RESET default_statistics_target"))
    return True


OBSERVATION_COLUMNS = ("series_id", "time_period", "vintage_id", "period_start", "period_end", "value", "status")
#: Where a load's observations of series the registry already has wait, so that their statuses are settled against
#: the earlier vintages as they are inserted (one statement) instead of updated after (a second write of each row).
_STAGED = "observation_load"
#: The observation table's primary key: it refuses a series and period given twice in one load.
OBSERVATION_KEY = "pk_observation"

# COPY's binary format (PostgreSQL, "COPY … File Formats"): a signature, flags and header extension length; per row
# the field count, then each field's length (-1: NULL) and its bytes in network order; -1 at the end.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"
_DAY_ZERO = date(2000, 1, 1).toordinal()
"""Binary dates count days from 2000-01-01."""


class RepeatedObservation(Exception):
    """The observation table refused a series and period given twice in one load (its primary key)."""


def _text_field(value: str) -> bytes:
    encoded = value.encode()
    return struct.pack(">i", len(encoded)) + encoded


def _period_fields(period: Period, vintage: int) -> bytes:
    """``time_period``, ``vintage_id``, ``period_start`` and ``period_end`` of a row of ``period``."""
    start, end = period.start.toordinal() - _DAY_ZERO, period.end.toordinal() - _DAY_ZERO
    return _text_field(period.text) + struct.pack(">iiiiii", 4, vintage, 4, start, 4, end)


def _table(fields: Sequence[bytes], width: int) -> npt.NDArray[np.void]:
    """``fields`` as one array of ``width``-byte items (those of another width: zeros, never picked)."""
    return np.frombuffer(b"".join(f if len(f) == width else bytes(width) for f in fields), dtype=f"V{width}")


def observation_copy(series_ids: Sequence[int], vintage: int, block: CheckedBlock, *, undecided: str) -> bytes:
    """The block's observations as ``COPY … (FORMAT binary)`` data; a status left to the registry is ``undecided``.

    Built by numpy, without a Python step per observation: rows whose fields have the same widths (the period's
    text, the value or NULL, the status) are one array of fixed-width records, filled column by column from the
    bytes of each period and status. Rows go in group by group (the table has no order). The database reads binary
    rows faster than text ones, too.
    """
    periods = [_period_fields(period, vintage) for period in block.periods]
    statuses = [_text_field(undecided if status is None else status) for status in block.statuses]
    period_widths = np.array([len(f) for f in periods], dtype=np.int64)
    status_widths = np.array([len(f) for f in statuses], dtype=np.int64)
    # one number per combination of widths (each below 2**20: a field's length is an int32 of a short text); the
    # widths' part looked at per row only when the load has texts of several lengths
    groups = np.isnan(block.values).astype(np.int64)
    if len(set(period_widths.tolist())) > 1:
        groups |= period_widths[block.period_numbers] << 21
    if len(set(status_widths.tolist())) > 1:
        groups |= status_widths[block.status_numbers] << 1
    ids = np.asarray(series_ids, dtype=np.int64)[block.series_numbers]
    parts = [_COPY_HEADER]
    single = len(groups) > 0 and bool((groups == groups[0]).all())
    for group in groups[:1].tolist() if single else np.unique(groups).tolist():
        rows_of_group = None if single else np.flatnonzero(groups == group)
        first = 0 if rows_of_group is None else int(rows_of_group[0])
        chosen = slice(None) if rows_of_group is None else rows_of_group
        period_width = int(period_widths[block.period_numbers[first]])
        status_width = int(status_widths[block.status_numbers[first]])
        null = bool(group & 1)
        value = [] if null else [("value", ">f8")]
        rows = np.empty(
            len(ids[chosen]),
            dtype=[
                ("fields", ">i2"),
                ("series_length", ">i4"),
                ("series_id", ">i8"),
                ("period", f"V{period_width}"),
                ("value_length", ">i4"),
                *value,
                ("status", f"V{status_width}"),
            ],
        )
        rows["fields"] = len(OBSERVATION_COLUMNS)
        rows["series_length"] = 8
        rows["series_id"] = ids[chosen]
        rows["period"] = _table(periods, period_width)[block.period_numbers[chosen]]
        rows["value_length"] = -1 if null else 8
        if not null:
            rows["value"] = block.values[chosen]
        rows["status"] = _table(statuses, status_width)[block.status_numbers[chosen]]
        parts.append(rows.tobytes())
    parts.append(_COPY_TRAILER)
    return b"".join(parts)


async def _copy(session: AsyncSession, table: str, rows: bytes) -> None:
    driver = await driver_connection(session)
    try:
        # a buffer, not ``bytes`` (which asyncpg would take for a file's path) nor a file (read in a thread)
        await driver.copy_to_table(table, source=memoryview(rows), columns=OBSERVATION_COLUMNS, format="binary")
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == OBSERVATION_KEY:
            raise RepeatedObservation from error
        raise


async def copy_observations(session: AsyncSession, rows: bytes) -> None:
    """``COPY`` observation rows (:func:`observation_copy`) into the table, in the session's transaction."""
    await _copy(session, "observation", rows)


async def insert_settled(session: AsyncSession, rows: bytes, vintage: int) -> int:
    """Insert observation rows whose status may be left to the registry (empty), settling it; how many revise.

    Such an observation is ``R`` where it changes the latest earlier value of its period, else ``A``; it revises
    (whatever its status) when an earlier vintage holds the period with another value.
    """
    await session.execute(
        text(f"CREATE TEMPORARY TABLE {_STAGED} (LIKE observation) ON COMMIT DROP")  # dropped below, or at rollback
    )
    await _copy(session, _STAGED, rows)
    try:
        result = await session.execute(
            text(
                f"WITH settled AS ("
                f"  SELECT o.series_id, o.time_period, o.period_start, o.period_end, o.value, o.status,"
                f"    earlier.vintage_id IS NOT NULL AND earlier.value IS DISTINCT FROM o.value AS revises"
                f"  FROM {_STAGED} o LEFT JOIN LATERAL ("
                f"    SELECT p.vintage_id, p.value FROM observation p WHERE p.series_id = o.series_id"
                f"    AND p.time_period = o.time_period AND p.vintage_id < :vintage ORDER BY p.vintage_id DESC LIMIT 1"
                f"  ) AS earlier ON true"
                f"), inserted AS ("
                f"  INSERT INTO observation ({', '.join(OBSERVATION_COLUMNS)})"
                f"  SELECT series_id, time_period, :vintage, period_start, period_end, value,"
                f"    CASE WHEN status <> '' THEN status WHEN revises THEN 'R' ELSE 'A' END FROM settled"
                f") SELECT count(*) FILTER (WHERE revises) FROM settled"
            ),
            {"vintage": vintage},
        )
    except IntegrityError as error:
        cause = error.orig.__cause__ if error.orig is not None else None
        if isinstance(cause, asyncpg.UniqueViolationError) and cause.constraint_name == OBSERVATION_KEY:
            raise RepeatedObservation from error
        raise
    revising: int = result.scalar_one()
    await session.execute(text(f"DROP TABLE {_STAGED}"))
    return revising


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
