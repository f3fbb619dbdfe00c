"""The quick check of SDMX-CSV loads: every rule decided once per distinct value, a row a few lookups.

A large load repeats a few values in every row (a series' dimensions and attributes, the periods, the statuses).
:func:`quick_csv` reads the rows as :mod:`.parsing` does and applies :class:`~.checking.RowChecker`'s rules, the
same functions, once per series, per period and per (area, period). It only accepts: at the first row it cannot
accept (any problem, or anything unusual) it gives up, and the load is checked again by ``RowChecker``, which finds
and words every problem with its line and column. So an accepted load is one ``RowChecker`` accepts, with the same
observations (a test holds them so), and a refused one is reported exactly as before.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import sys
from collections.abc import Iterator, Mapping
from operator import itemgetter

from onesource.macroeconomy.dataflows.codes import code_problem
from onesource.macroeconomy.dataflows.definitions import AREA_CODELIST, CODELISTS, Dataflow
from onesource.macroeconomy.loads.checking import NUMBER, CheckedLoad, LoadedSeries
from onesource.macroeconomy.loads.parsing import LOADABLE_ACTIONS, UnreadableLoad, csv_header
from onesource.macroeconomy.series.keys import series_key
from onesource.macroeconomy.series.periods import PeriodError, parse


class _SeriesState:
    """What the quick check knows of one series of the load: its number, area codes and periods seen."""

    __slots__ = ("areas", "frequency", "number", "periods", "seen")

    def __init__(self, number: int, frequency: str, periods: dict[str, int], areas: list[dict[int, bool]]) -> None:
        self.number = number
        self.frequency = frequency
        self.periods = periods
        """Period text → number, shared by the series of one frequency."""
        self.areas = areas
        """Per area-coded dimension, whether its value is a division during each period (by number)."""
        self.seen: set[int] = set()


class QuickCsvCheck:
    """Checks SDMX-CSV rows by the same rules as :class:`RowChecker`, deciding each rule once per distinct value.

    Rows of a load repeat a few values (a series' dimensions and attributes, the periods, the statuses), so each
    rule runs once per series, per period or per (area, period), and a row costs a few lookups. It only accepts:
    at the first row it cannot accept (any problem, or anything unusual) it gives up, and the caller checks the
    whole load with :class:`RowChecker`, which finds and words every problem with its line and column.
    """

    def __init__(self, flow: Dataflow, columns: Mapping[int, str]) -> None:
        self.flow = flow
        structure = flow.structure
        by_name = {name: position for position, name in columns.items()}
        self._dimensions = list(structure.dimensions)
        self._attributes = [a for a in structure.series_attributes() if a.id in by_name or a.mandatory]
        # a missing mandatory attribute column: every row is refused, by RowChecker
        self.usable = all(a.id in by_name for a in self._attributes)
        self.series_positions = [by_name[c.id] for c in (*self._dimensions, *self._attributes) if c.id in by_name]
        self.time_position = by_name["TIME_PERIOD"]
        self.value_position = by_name.get("OBS_VALUE")
        self.status_position = by_name.get("OBS_STATUS")
        status = structure.component("OBS_STATUS")
        self.statuses = frozenset(CODELISTS[status.codelist].names()) if status and status.codelist else None
        """The codes ``OBS_STATUS`` may have (``None``: any)."""
        self._area_dimensions = [
            position for position, dimension in enumerate(self._dimensions) if dimension.codelist == AREA_CODELIST
        ]
        self._periods: dict[str, dict[str, int]] = {}
        self._areas: dict[str, dict[int, bool]] = {}
        self._by_key: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.found = CheckedLoad([], [], [], [], [], [])

    def series(self, cells: tuple[str, ...], line: int) -> _SeriesState | None:
        """A series first seen at ``line``: its state, or ``None`` when a rule refuses it (or may)."""
        count = len(self._dimensions)
        dimensions = cells[:count]
        if dimensions in self._by_key:  # the same key with other attributes: a conflict, or a missing attribute
            return None
        for dimension, value in zip(self._dimensions, dimensions, strict=True):
            if value == "" or (dimension.id == "FREQ" and value not in self.flow.frequencies):
                return None
            if dimension.codelist != AREA_CODELIST and code_problem(dimension, value, None, None):
                return None
        attributes = {}
        for attribute, value in zip(self._attributes, cells[count:], strict=True):
            if value == "" or code_problem(attribute, value, None, None):
                return None  # a mandatory one missing, or an optional one empty (RowChecker decides)
            attributes[attribute.id] = value
        self._by_key[dimensions] = cells
        frequency = dimensions[[d.id for d in self._dimensions].index("FREQ")]
        state = _SeriesState(
            len(self.found.series),
            frequency,
            self._periods.setdefault(frequency, {}),
            [self._areas.setdefault(dimensions[position], {}) for position in self._area_dimensions],
        )
        self.found.series.append(LoadedSeries(series_key(dimensions), dimensions, attributes, line))
        return state

    def period(self, state: _SeriesState, text: str) -> int | None:
        """The number of a period first seen in a series of its frequency, or ``None`` when it is not one."""
        try:
            period = parse(text, state.frequency)
        except PeriodError:
            return None
        number = state.periods[text] = len(self.found.periods)
        self.found.periods.append(period)
        return number

    def area(self, state: _SeriesState, period_number: int) -> bool:
        """Whether the series' area codes are divisions during the period (remembered per area and period)."""
        period = self.found.periods[period_number]
        dimensions = self.found.series[state.number].dimensions
        fine = True
        for position, known in zip(self._area_dimensions, state.areas, strict=True):
            ok = known.get(period_number)
            if ok is None:
                ok = known[period_number] = (
                    code_problem(self._dimensions[position], dimensions[position], period.start, period.end) is None
                )
            fine = fine and ok
        return fine


def _records(text: str) -> tuple[Iterator[list[str]], bool]:
    """The CSV records of ``text``, and whether they were split plainly (an empty line is then ``[""]``).

    Text without quotes, NULs and lone carriage returns is what RFC 4180 reads as lines of comma-separated
    fields, and splitting it is faster than the CSV reader; other text goes through the reader.
    """
    if '"' in text or "\x00" in text or text.count("\r") != text.count("\r\n"):
        return csv.reader(io.StringIO(text, newline=""), strict=True), False
    return map(str.split, text.replace("\r\n", "\n").split("\n"), itertools.repeat(",")), True


class QuickCsv:
    """The quick check of one SDMX-CSV load, block by block (the next block is checked while one loads)."""

    def __init__(self, text: str, flow: Dataflow) -> None:
        records, self._plain = _records(text)
        self._check: QuickCsvCheck | None = None
        try:
            header = csv_header(next(records, None), flow)
        except (UnreadableLoad, csv.Error):
            return
        check = QuickCsvCheck(flow, header.columns)
        if check.usable:
            self._check = check
            self._header = header
            # an accepted record is one line (no field it accepts holds a line break): its line is its number
            self._lines = enumerate(records, start=2)
            self._known: dict[tuple[str, ...], _SeriesState] = {}
        self.finished = False
        """Whether every row has been read."""

    @property
    def usable(self) -> bool:
        """Whether its header lets it check rows at all (else ``RowChecker`` has the load)."""
        return self._check is not None

    def block(self, size: int) -> CheckedLoad | None:
        """The next ``size`` observations at most (none: the load is read); ``None`` at a row it cannot accept.

        The block's :attr:`~.checking.CheckedLoad.series` are those first seen in it (numbered from the load's
        first), its periods every period seen so far.
        """
        check = self._check
        if check is None:
            return None
        header, plain, known = self._header, self._plain, self._known
        fields, structure_id, action = header.fields, check.flow.structure_id, header.action_column
        series_of = itemgetter(*check.series_positions)
        time, value_at, status_at = check.time_position, check.value_position, check.status_position
        statuses = check.statuses
        first_new = len(check.found.series)
        series_numbers: list[int] = []
        period_numbers: list[int] = []
        values: list[float | None] = []
        loaded_statuses: list[str | None] = []
        number = NUMBER.match
        isfinite = math.isfinite
        read = 0
        try:
            for line, record in itertools.islice(self._lines, size):
                read += 1
                if len(record) != fields:
                    if not record or (plain and record == [""]):
                        continue  # an empty line
                    return None
                if (
                    record[0] != "dataflow"
                    or record[1] != structure_id
                    or (action is not None and record[action] not in LOADABLE_ACTIONS)
                ):
                    return None
                cells = series_of(record)
                state = known.get(cells)
                if state is None:
                    state = check.series(cells, line)
                    if state is None:
                        return None
                    known[cells] = state
                text = record[time]
                period = state.periods.get(text)
                if period is None:
                    period = check.period(state, text)
                    if period is None:
                        return None
                if period in state.seen:
                    return None
                for area in state.areas:  # one for each area-coded dimension
                    if area.get(period) is not True and not check.area(state, period):
                        return None
                state.seen.add(period)
                given = record[value_at] if value_at is not None else ""
                if given:
                    if not number(given):
                        return None
                    value: float | None = float(given)
                    if not isfinite(value):  # type: ignore[arg-type]
                        return None
                else:
                    value = None
                status = record[status_at] if status_at is not None else ""
                if status and statuses is not None and status not in statuses:
                    return None
                series_numbers.append(state.number)
                period_numbers.append(period)
                values.append(value)
                loaded_statuses.append(status or None)
        except csv.Error:
            return None
        self.finished = read < size
        return CheckedLoad(
            check.found.series[first_new:],
            list(check.found.periods),
            series_numbers,
            period_numbers,
            values,
            loaded_statuses,
        )


def quick_csv(text: str, flow: Dataflow) -> CheckedLoad | None:
    """The observations of an SDMX-CSV 2.0 load when every row passes; ``None`` when one may not (check it again)."""
    found = QuickCsv(text, flow).block(sys.maxsize)
    return found if found else None
