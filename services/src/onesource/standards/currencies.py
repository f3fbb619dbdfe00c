"""Currency codes (ISO 4217, table A.1: current currencies and funds).

Each entry has its alphabetic code, its numeric code (3 digits) and its minor unit (the number of decimal places;
``None`` where the standard says N.A., as for gold or the SDR). ``data/currencies.csv`` reproduces table A.1 as
published by the maintenance agency (SIX) on the date in ``data/SOURCES.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from onesource.standards._files import read_table

_CODE = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class Currency:
    """One currency (or fund, or precious metal) of ISO 4217 table A.1."""

    code: str
    numeric: str
    #: Decimal places of the minor unit; ``None`` when the standard gives none (N.A.).
    minor_unit: int | None
    name: str
    #: A fund code (e.g. ``CLF``, ``USN``) rather than a currency in circulation.
    fund: bool


@cache
def currencies() -> Mapping[str, Currency]:
    """Every code of ISO 4217 table A.1, by alphabetic code."""
    return {
        row["code"]: Currency(
            row["code"],
            row["numeric"],
            int(row["minor_unit"]) if row["minor_unit"] else None,
            row["name"],
            row["fund"] == "true",
        )
        for row in read_table("currencies.csv")
    }


def currency(code: str) -> Currency | None:
    """The entry of the alphabetic ``code``, or ``None``."""
    return currencies().get(code)


def currency_problem(code: str) -> str | None:
    """Why ``code`` is not an ISO 4217 alphabetic code in table A.1, or ``None``."""
    if not _CODE.fullmatch(code):
        return "must be 3 capital letters (ISO 4217)"
    if code not in currencies():
        return f"{code} is not an ISO 4217 currency code"
    return None
