"""The binary ``COPY`` data of a block holds each observation's fields, whatever widths its rows' fields have."""

from __future__ import annotations

import math
import struct
from datetime import date, timedelta

import numpy as np
import pytest

from onesource.macroeconomy.loads.checking import LoadedSeries
from onesource.macroeconomy.loads.columns import CheckedBlock
from onesource.macroeconomy.loads.repository import OBSERVATION_COLUMNS, observation_copy
from onesource.macroeconomy.series.periods import Period, parse

Row = tuple[int, str, int, date, date, float | None, str]


def read_copy(data: bytes) -> list[Row]:
    """The rows of ``COPY … (FORMAT binary)`` data of observations (PostgreSQL, "COPY … File Formats")."""
    assert data[:19] == b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    at, rows = 19, []
    day_zero = date(2000, 1, 1)
    while True:
        (count,) = struct.unpack_from(">h", data, at)
        at += 2
        if count == -1:
            assert at == len(data)
            return rows
        assert count == len(OBSERVATION_COLUMNS)
        fields: list[bytes | None] = []
        for _ in range(count):
            (length,) = struct.unpack_from(">i", data, at)
            at += 4
            fields.append(None if length == -1 else data[at : at + length])
            at += max(length, 0)
        series, period, vintage, start, end, value, status = fields
        rows.append(
            (
                struct.unpack(">q", present(series))[0],
                present(period).decode(),
                struct.unpack(">i", present(vintage))[0],
                day_zero + timedelta(days=struct.unpack(">i", present(start))[0]),
                day_zero + timedelta(days=struct.unpack(">i", present(end))[0]),
                None if value is None else struct.unpack(">d", value)[0],
                present(status).decode(),
            )
        )


def present(field: bytes | None) -> bytes:
    """A field that may not be NULL."""
    assert field is not None
    return field


@pytest.mark.parametrize(
    ("periods", "statuses"),
    [
        # a status of two bytes: its rows are another width
        (
            [parse("2024-Q1", "Q"), parse("2020", "A"), parse("2024-S2", "S"), parse("2024-Q2", "Q")],
            [None, "P", "E", "Ü"],
        ),
        ([parse(f"2024-Q{n}", "Q") for n in range(1, 5)], ["P"] * 4),  # one width: groups by NULL values alone
    ],
)
def test_rows_of_other_period_lengths_values_and_statuses_each_hold_their_own_fields(
    periods: list[Period], statuses: list[str | None]
) -> None:
    block = CheckedBlock(
        series=[LoadedSeries(f"Q.{n}", ("Q",), {}, None) for n in range(3)],
        periods=periods,
        statuses=statuses,
        series_numbers=np.array([0, 1, 2, 0, 1, 2, 0, 1], dtype=np.int64),
        period_numbers=np.array([0, 1, 2, 3, 0, 1, 2, 3], dtype=np.int64),
        values=np.array([1.5, np.nan, -0.0, 1e300, 7.0, np.nan, 2.25, 3.0]),
        status_numbers=np.array([0, 1, 2, 3, 0, 0, 3, 1], dtype=np.int64),
    )
    series_ids = [101, 202, 303]

    found = read_copy(observation_copy(series_ids, 9, block, undecided="A"))

    expected = []
    for series, period, value, status in zip(
        block.series_numbers.tolist(),
        block.period_numbers.tolist(),
        block.values.tolist(),
        block.status_numbers.tolist(),
        strict=True,
    ):
        known = periods[period]
        text = statuses[status] or "A"
        expected.append(
            (series_ids[series], known.text, 9, known.start, known.end, None if math.isnan(value) else value, text)
        )
    key = repr
    assert sorted(found, key=key) == sorted(expected, key=key)  # rows go in group by group


def test_an_empty_block_is_a_copy_of_no_rows() -> None:
    none = np.empty(0, dtype=np.int64)
    block = CheckedBlock([], [], [], none, none, np.empty(0), none)
    assert read_copy(observation_copy([], 1, block, undecided="")) == []
