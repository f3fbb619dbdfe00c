"""SDMX time periods (SDMX 3.0 Technical Notes, "Time period"; ISO 8601 reporting periods) for A S Q M W D.

A period of frequency ``A`` is ``2024``; ``S`` ``2024-S1``; ``Q`` ``2024-Q3``; ``M`` ``2024-07``; ``W`` ``2024-W05``
(ISO 8601 week, Monday to Sunday); ``D`` ``2024-07-31``. Each covers the days ``[start, end]``. ``startPeriod`` and
``endPeriod`` of a data query may be any of these forms, whatever the series' frequency (SDMX REST: the query
period is compared by the time it covers): an observation is kept when its period ends on or after the start of
``startPeriod`` and starts on or before the end of ``endPeriod``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

_FORMS: Final = {
    "A": re.compile(r"^(\d{4})$"),
    "S": re.compile(r"^(\d{4})-S([12])$"),
    "Q": re.compile(r"^(\d{4})-Q([1-4])$"),
    "M": re.compile(r"^(\d{4})-(\d{2})$"),
    "W": re.compile(r"^(\d{4})-W(\d{2})$"),
    "D": re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
}
#: How a period of each frequency is written, for messages.
EXAMPLES: Final = {"A": "2024", "S": "2024-S1", "Q": "2024-Q3", "M": "2024-07", "W": "2024-W05", "D": "2024-07-31"}


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting period and the days it covers."""

    frequency: str
    text: str
    start: date
    end: date


class PeriodError(ValueError):
    """A period that is not one of the frequency's form (the message says which form)."""


def parse(text: str, frequency: str) -> Period:
    """The period ``text`` of ``frequency``; :class:`PeriodError` when it is not of that frequency's form."""
    form = _FORMS.get(frequency)
    if form is None:
        raise PeriodError(f"frequency {frequency!r} has no time periods here (A, S, Q, M, W or D)")
    match = form.match(text)
    if match is None:
        raise PeriodError(f"{text!r} is not a period of frequency {frequency} (such as {EXAMPLES[frequency]})")
    year = int(match.group(1))
    if year < 1:
        raise PeriodError(f"{text!r}: year 0000 does not exist")
    try:
        start, end = _bounds(frequency, year, match.groups()[1:])
    except ValueError:
        raise PeriodError(
            f"{text!r} is not a period of frequency {frequency} (such as {EXAMPLES[frequency]})"
        ) from None
    return Period(frequency, text, start, end)


def _bounds(frequency: str, year: int, parts: tuple[str, ...]) -> tuple[date, date]:
    if frequency == "A":
        return date(year, 1, 1), date(year, 12, 31)
    if frequency == "S":
        half = int(parts[0])
        return (date(year, 1, 1), date(year, 6, 30)) if half == 1 else (date(year, 7, 1), date(year, 12, 31))
    if frequency == "Q":
        first = 3 * int(parts[0]) - 2
        return date(year, first, 1), date(year, first + 2, calendar.monthrange(year, first + 2)[1])
    if frequency == "M":
        month = int(parts[0])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if frequency == "W":
        week = int(parts[0])
        # ISO 8601: a year has 53 weeks when it starts on a Thursday, or is a leap year starting on a Wednesday.
        if not 1 <= week <= date(year, 12, 28).isocalendar().week:
            raise ValueError("no such week")
        monday = date.fromisocalendar(year, week, 1)
        return monday, monday + timedelta(days=6)
    day = date(year, int(parts[0]), int(parts[1]))
    return day, day


def parse_any(text: str) -> Period:
    """A query period in any of the forms (``startPeriod``, ``endPeriod``); :class:`PeriodError` otherwise."""
    for frequency in _FORMS:
        try:
            return parse(text, frequency)
        except PeriodError:
            continue
    raise PeriodError(f"{text!r} is not a period (such as 2024, 2024-S1, 2024-Q3, 2024-07, 2024-W05 or 2024-07-31)")
