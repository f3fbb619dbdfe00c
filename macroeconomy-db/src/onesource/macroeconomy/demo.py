"""Synthetic macroeconomic data for the local mesh and the benchmarks: seeded, plausible, never real figures.

Quarterly regional GDP (``GDP_Q``: level at current prices, its index, three industries) and monthly CPI
(``CPI_M``) for every province, over ``YEARS`` years ending with the last complete quarter of ``END_YEAR``. The
demo loads them as vintages: the history; a revision of last year's GDP (values changed, marked ``R``), and the
next quarter's preliminary GDP (``P``) embargoed until a release time in the future.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from onesource.macroeconomy.dataflows.definitions import DATAFLOWS

#: Provinces (GB/T 2260 province-level codes) and a rough 2015 quarterly GDP, 亿元.
PROVINCES: Final = {
    "110000": 5800, "120000": 4200, "130000": 7500, "140000": 3200, "150000": 4500, "210000": 7200,
    "220000": 3500, "230000": 3800, "310000": 6300, "320000": 17500, "330000": 10700, "340000": 5500,
    "350000": 6500, "360000": 4200, "370000": 15800, "410000": 9300, "420000": 7400, "430000": 7200,
    "440000": 18200, "450000": 4200, "460000": 930, "500000": 3900, "510000": 7500, "520000": 2600,
    "530000": 3400, "540000": 250, "610000": 4500, "620000": 1700, "630000": 600, "640000": 730, "650000": 2300,
}  # fmt: skip
START_YEAR: Final = 2014
END_YEAR: Final = 2025
GDP_INDICATORS: Final = ("GDP", "VA_PRIMARY", "VA_SECONDARY", "VA_TERTIARY")
_SHARES: Final = {"GDP": 1.0, "VA_PRIMARY": 0.08, "VA_SECONDARY": 0.39, "VA_TERTIARY": 0.53}


@dataclass(frozen=True, slots=True)
class DemoRow:
    """One observation as a load writes it."""

    key: tuple[str, ...]
    period: str
    value: float
    status: str = ""
    unit: str = "CNY"
    unit_mult: str = "8"
    decimals: str = "2"


def quarters(start: int, end: int) -> Iterator[str]:
    """``2014-Q1`` … ``2025-Q4``."""
    for year in range(start, end + 1):
        for quarter in range(1, 5):
            yield f"{year}-Q{quarter}"


def gdp_rows(seed: int, periods: Sequence[str], provinces: Iterable[str] = PROVINCES) -> Iterator[DemoRow]:
    """Quarterly GDP and industries at current prices, and the GDP index, per province."""
    for province in provinces:
        rng = random.Random(f"{seed}-{province}")
        level = PROVINCES.get(province, 3000) * rng.uniform(0.9, 1.1)
        growth = rng.uniform(0.012, 0.02)
        previous: list[float] = []
        for number, period in enumerate(periods):
            season = (0.88, 0.98, 1.02, 1.12)[int(period[-1]) - 1]
            value = level * (1 + growth) ** number * season * rng.uniform(0.99, 1.01)
            for indicator in GDP_INDICATORS:
                yield DemoRow(("Q", province, indicator, "CUR"), period, round(value * _SHARES[indicator], 2))
            if number >= 4:
                index = 100 * value / previous[number - 4] * rng.uniform(0.97, 0.99)
                yield DemoRow(
                    ("Q", province, "GDPI", "IDX"), period, round(index, 1), unit="IDX", unit_mult="0", decimals="1"
                )
            previous.append(value)


def months(start: int, end: int) -> Iterator[str]:
    """``2014-01`` … ``2025-12``."""
    for year in range(start, end + 1):
        for month in range(1, 13):
            yield f"{year}-{month:02d}"


def cpi_rows(seed: int, periods: Sequence[str]) -> Iterator[DemoRow]:
    """Monthly CPI (previous year = 100) per province: headline, food, services."""
    for province in PROVINCES:
        rng = random.Random(f"{seed}-cpi-{province}")
        for indicator, spread in (("CPI", 0.8), ("CPI_FOOD", 2.5), ("CPI_SERV", 0.6)):
            for period in periods:
                value = 100 + rng.gauss(1.8, spread)
                yield DemoRow(
                    ("M", province, indicator, "PY"), period, round(value, 1), unit="IDX", unit_mult="0", decimals="1"
                )


def to_csv(flow_id: str, rows: Iterable[DemoRow]) -> bytes:
    """An SDMX-CSV 2.0 load of ``rows``."""
    flow = DATAFLOWS[flow_id]
    dimensions = [dimension.id for dimension in flow.structure.dimensions]
    output = io.StringIO(newline="")
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(
        ["STRUCTURE", "STRUCTURE_ID", "ACTION", *dimensions, "TIME_PERIOD", "OBS_VALUE", "OBS_STATUS",
         "UNIT_MEASURE", "UNIT_MULT", "DECIMALS"]
    )  # fmt: skip
    for row in rows:
        writer.writerow(
            ["dataflow", flow.structure_id, "I", *row.key, row.period, repr(row.value), row.status, row.unit,
             row.unit_mult, row.decimals]
        )  # fmt: skip
    return output.getvalue().encode()


def revised(rows: Iterable[DemoRow], seed: int) -> Iterator[DemoRow]:
    """The same observations revised by up to ±1.5 % (status left to the registry: ``R``)."""
    rng = random.Random(f"{seed}-revision")
    for row in rows:
        yield DemoRow(row.key, row.period, round(row.value * rng.uniform(0.985, 1.015), 2), "", row.unit,
                      row.unit_mult, row.decimals)  # fmt: skip


def provisional(rows: Iterable[DemoRow]) -> Iterator[DemoRow]:
    """Rows marked provisional (``P``)."""
    for row in rows:
        yield DemoRow(row.key, row.period, row.value, "P", row.unit, row.unit_mult, row.decimals)
