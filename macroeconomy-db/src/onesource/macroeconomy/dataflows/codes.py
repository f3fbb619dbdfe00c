"""Whether a value is a code of a component's code list, and its name.

``CL_AREA`` is GB/T 2260 through the shared standards: a region code must denote a division on the first or the
last day of the observation's period (a division created or abolished mid-period still reports that period).
"""

from __future__ import annotations

from datetime import date
from functools import cache

from onesource.macroeconomy.dataflows.definitions import AREA_CODELIST, CODELISTS, Component
from onesource.standards import divisions


@cache
def _names(codelist: str) -> dict[str, str]:
    return CODELISTS[codelist].names()


def code_problem(component: Component, value: str, period_start: date | None, period_end: date | None) -> str | None:
    """Why ``value`` is not a code of ``component`` for a period (``None`` when it is); non-coded: always fine."""
    if component.codelist is None:
        return None
    if component.codelist == AREA_CODELIST:
        return _area_problem(value, period_start, period_end)
    if value not in _names(component.codelist):
        return f"{value!r} is not a code of {component.codelist} ({', '.join(_names(component.codelist))})"
    return None


@cache
def _area_problem(value: str, start: date | None, end: date | None) -> str | None:
    if start is None or end is None:
        return None if divisions.is_listed_division(value) else divisions.division_problem(value, date.today())
    problem = divisions.division_problem(value, start)
    if problem is None or divisions.division_problem(value, end) is None:
        return None
    return f"{AREA_CODELIST}: {problem}"


@cache
def code_name(codelist: str, value: str) -> str:
    """The name of a code (a region: as named today, or when last listed)."""
    if codelist == AREA_CODELIST:
        current = divisions.division(value, date.today())
        if current is not None:
            return current.name
        return _last_area_name(value)
    return _names(codelist).get(value, value)


def _last_area_name(value: str) -> str:
    for year in range(date.today().year, 1979, -1):
        found = divisions.division(value, date(year, 1, 1))
        if found is not None:
            return found.name
    return value


def area_codes(on: date) -> list[tuple[str, str]]:
    """The GB/T 2260 divisions of ``on``, code and name (``CL_AREA`` as a structure message lists it)."""
    return [(division.code, division.name) for division in divisions.divisions(on)]
