"""Every row of a load checked against the dataflow's structure (pure: shared by CSV and JSON loads).

A row is refused, with where it is and the component, for: a value that is not a code of the component's code
list (regions: a GB/T 2260 division during the period), a frequency the dataflow does not hold, a period not of
the row's frequency, a value that is not a finite number, an ``OBS_STATUS`` that is not a code, a series-level
attribute that differs from the series' own, a missing mandatory attribute, and a key and period given twice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from onesource.macroeconomy.dataflows.codes import code_problem
from onesource.macroeconomy.dataflows.definitions import Dataflow
from onesource.macroeconomy.series.keys import series_key
from onesource.macroeconomy.series.periods import Period, PeriodError, parse

#: Problems reported at most (a file of a million bad rows answers with the first ones).
MAX_PROBLEMS: Final = 100
#: A decimal number as SDMX-CSV writes it (no thousands separators, no ``NaN`` or ``inf``).
NUMBER: Final = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True, slots=True)
class Cell:
    """One value of a row, and where it is."""

    value: str
    column: int | None = None
    """1-based CSV column (``None`` for JSON)."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row (or the header) is refused."""

    line: int | None
    """1-based line of the CSV text; ``None`` for JSON."""
    column: int | None
    component: str | None
    reason: str
    pointer: str | None = None
    """For a JSON load: the observation's JSON Pointer."""

    def location(self) -> str:
        """``line 3, column 5 (REF_AREA)``, or the pointer of a JSON observation."""
        parts = [f"line {self.line}"] if self.line is not None else []
        if self.pointer is not None:
            parts.append(self.pointer)
        if self.column is not None:
            parts.append(f"column {self.column}")
        where = ", ".join(parts) or "message"
        return f"{where} ({self.component})" if self.component else where


@dataclass(frozen=True, slots=True)
class CheckedObservation:
    """A row that passed: its series, period, value and status."""

    line: int | None
    key: str
    dimensions: tuple[str, ...]
    period: Period
    value: float | None
    status: str | None
    """``OBS_STATUS`` as loaded (``None``: the registry decides, ``A`` or ``R``)."""
    series_attributes: dict[str, str]


@dataclass
class RowChecker:
    """Checks the rows of one load in order; remembers keys and series attributes to find repeats and conflicts."""

    flow: Dataflow
    _seen: dict[tuple[str, str], str] = field(default_factory=dict)
    _series: dict[str, tuple[dict[str, str], str]] = field(default_factory=dict)

    def check(
        self, cells: Mapping[str, Cell], *, line: int | None = None, pointer: str | None = None
    ) -> CheckedObservation | list[RowProblem]:
        """The checked observation of one row, or every problem it has."""
        structure = self.flow.structure
        problems: list[RowProblem] = []

        def refuse(component: str | None, reason: str) -> None:
            cell = cells.get(component) if component else None
            problems.append(RowProblem(line, cell.column if cell else None, component, reason, pointer))

        frequency = cells["FREQ"].value if "FREQ" in cells else ""
        period: Period | None = None
        time_cell = cells.get("TIME_PERIOD")
        if time_cell is None or time_cell.value == "":
            refuse("TIME_PERIOD", "a period is required")
        elif frequency in self.flow.frequencies:
            try:
                period = parse(time_cell.value, frequency)
            except PeriodError as error:
                refuse("TIME_PERIOD", str(error))
        dimensions: list[str] = []
        for dimension in structure.dimensions:
            cell = cells.get(dimension.id)
            value = cell.value if cell else ""
            dimensions.append(value)
            if value == "":
                refuse(dimension.id, "a value is required (a key has every dimension)")
                continue
            if dimension.id == "FREQ" and value not in self.flow.frequencies:
                refuse(
                    "FREQ", f"{value!r}: {self.flow.id} holds frequencies {', '.join(sorted(self.flow.frequencies))}"
                )
                continue
            problem = code_problem(dimension, value, period.start if period else None, period.end if period else None)
            if problem:
                refuse(dimension.id, problem)
        number = self._value(cells.get("OBS_VALUE"), refuse)
        status_cell = cells.get("OBS_STATUS")
        status = status_cell.value if status_cell and status_cell.value else None
        if status is not None:
            component = structure.component("OBS_STATUS")
            problem = code_problem(component, status, None, None) if component else None
            if problem:
                refuse("OBS_STATUS", problem)
        attributes: dict[str, str] = {}
        for attribute in structure.series_attributes():
            cell = cells.get(attribute.id)
            if cell is None or cell.value == "":
                if attribute.mandatory:
                    refuse(attribute.id, "a value is required (a mandatory series attribute)")
                continue
            problem = code_problem(attribute, cell.value, None, None)
            if problem:
                refuse(attribute.id, problem)
            attributes[attribute.id] = cell.value
        if problems or period is None:
            return problems
        key = series_key(dimensions)
        where = f"line {line}" if line is not None else (pointer or "an earlier observation")
        earlier = self._seen.get((key, period.text))
        if earlier is not None:
            return [
                RowProblem(
                    line,
                    time_cell.column if time_cell else None,
                    "TIME_PERIOD",
                    f"series {key} period {period.text} is given twice (also at {earlier})",
                    pointer,
                )
            ]
        self._seen[(key, period.text)] = where
        known = self._series.get(key)
        if known is None:
            self._series[key] = (attributes, where)
        else:
            for name, value in attributes.items():
                if known[0].get(name) != value:
                    refuse(name, f"series {key} has {name} {known[0].get(name)!r} at {known[1]}, here {value!r}")
            if problems:
                return problems
        return CheckedObservation(line, key, tuple(dimensions), period, number, status, attributes)

    @staticmethod
    def _value(cell: Cell | None, refuse: object) -> float | None:
        if cell is None or cell.value == "":
            return None
        number = float(cell.value) if NUMBER.match(cell.value) else math.nan
        if not math.isfinite(number):
            assert callable(refuse)
            refuse("OBS_VALUE", f"{cell.value!r} is not a number")
            return None
        return number


@dataclass(frozen=True, slots=True)
class LoadedSeries:
    """A series of a load: its key, dimension values, series attributes, and where it first appears."""

    key: str
    dimensions: tuple[str, ...]
    attributes: dict[str, str]
    line: int | None


@dataclass(frozen=True, slots=True)
class CheckedLoad:
    """Every observation of a load that passed, as parallel lists (one entry per observation, in load order).

    A million observations are a few lists of numbers and shared strings rather than a million objects.
    """

    series: list[LoadedSeries]
    periods: list[Period]
    series_numbers: list[int]
    """Each observation's series (position in :attr:`series`)."""
    period_numbers: list[int]
    """Each observation's period (position in :attr:`periods`)."""
    values: list[float | None]
    statuses: list[str | None]
    """``OBS_STATUS`` as loaded (``None``: the registry decides, ``A`` or ``R``)."""

    def __len__(self) -> int:
        return len(self.series_numbers)

    @classmethod
    def of(cls, observations: Sequence[CheckedObservation]) -> CheckedLoad:
        """The columns of checked observations."""
        series: dict[str, int] = {}
        periods: dict[tuple[str, str], int] = {}
        found = cls([], [], [], [], [], [])
        for observation in observations:
            number = series.get(observation.key)
            if number is None:
                number = series[observation.key] = len(found.series)
                found.series.append(
                    LoadedSeries(
                        observation.key, observation.dimensions, observation.series_attributes, observation.line
                    )
                )
            period = (observation.period.frequency, observation.period.text)
            period_number = periods.get(period)
            if period_number is None:
                period_number = periods[period] = len(found.periods)
                found.periods.append(observation.period)
            found.series_numbers.append(number)
            found.period_numbers.append(period_number)
            found.values.append(observation.value)
            found.statuses.append(observation.status)
        return found
