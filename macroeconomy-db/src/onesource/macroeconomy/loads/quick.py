"""The quick check of SDMX-CSV loads: column by column, every rule decided once per distinct value.

A large load repeats a few values in every row (a series' dimensions and attributes, the periods, the statuses).
:class:`QuickCsv` reads a block of rows into Arrow columns of strings and applies :class:`~.checking.RowChecker`'s
rules, the same functions, once per series, per period, per (area, period) and per status; what is left per row
(numbering, the duplicate check, the numbers) is done by Arrow's and numpy's kernels over whole columns, without a
Python object per row or cell: a million rows are most of a load's time otherwise. It only accepts: at the first
block it cannot accept (any problem, or anything unusual) it gives up, and the load is checked again by
``RowChecker``, which finds and words every problem with its line and column. So an accepted load is one
``RowChecker`` accepts, with the same observations (a test holds them so), and a refused one is reported exactly
as before.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped]

from onesource.macroeconomy.dataflows.codes import code_problem
from onesource.macroeconomy.dataflows.definitions import AREA_CODELIST, CODELISTS, Dataflow
from onesource.macroeconomy.loads.checking import CheckedLoad, LoadedSeries
from onesource.macroeconomy.loads.columns import CheckedBlock, Numbers
from onesource.macroeconomy.loads.parsing import LOADABLE_ACTIONS, CsvHeader, UnreadableLoad, csv_header
from onesource.macroeconomy.series.keys import series_key
from onesource.macroeconomy.series.periods import Period, PeriodError, parse

#: ``checking.NUMBER`` for RE2, in ASCII: Python's ``\d`` also takes other scripts' digits and its ``$`` a final
#: line end, which ``float`` reads too; values with those are given up on, and ``RowChecker`` decides them.
_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
#: Bytes Arrow reads at a time (about ten thousand rows): a block is a few of them.
_ARROW_BLOCK = 1 << 20
#: A (series or area, period) pair as one integer: the first number shifted past any period number.
_PAIR = 1 << 32
#: What ends a line for the CSV reader (``newline=""``) and for Arrow.
_LINE_END = re.compile(r"\r\n|\r|\n")

Strings = Any
"""An Arrow array of strings (pyarrow has no type stubs)."""


@dataclass(frozen=True, slots=True)
class _Records:
    """A block of rows: the columns the check reads (by position in the header), and each row's line."""

    columns: dict[int, Strings]
    lines: Numbers


class _ArrowRows:
    """Rows of text without quotes or NULs after its header, read by Arrow's CSV parser a block at a time.

    Arrow reads such text as the CSV reader does, a record a line (lone carriage returns end lines for both), except
    an empty line: the reader skips it, Arrow makes it a row of empty fields (kept: each row is then a line).
    """

    def __init__(self, body: bytes, fields: int, positions: list[int]) -> None:
        names = [str(position) for position in range(fields)]
        self._reader = pa_csv.open_csv(
            pa.py_buffer(body),
            read_options=pa_csv.ReadOptions(
                column_names=names, skip_rows=1, block_size=_ARROW_BLOCK, use_threads=False
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=",",
                quote_char=False,
                double_quote=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pa_csv.ConvertOptions(
                include_columns=[names[position] for position in positions],
                column_types={names[position]: pa.string() for position in positions},
                null_values=[],
                strings_can_be_null=False,
                check_utf8=False,  # the text was decoded from UTF-8
            ),
        )
        self._positions = positions
        self._left: list[Any] = []
        """Record batches read and not yet handed out."""

    def read(self, size: int, first_line: int) -> tuple[_Records, bool]:
        """About ``size`` rows and whether they are the last; ``pyarrow.ArrowInvalid`` at a row of other fields."""
        batches, count, finished = self._left, sum(len(batch) for batch in self._left), False
        self._left = []
        while count < size:
            try:
                batch = self._reader.read_next_batch()
            except StopIteration:
                finished = True
                break
            batches.append(batch)
            count += len(batch)
        if count > size:  # the rest of the last batch waits for the next block
            last = batches.pop()
            keep = len(last) - (count - size)
            batches.append(last.slice(0, keep))
            self._left = [last.slice(keep)]
            count = size
        table = pa.Table.from_batches(batches, schema=self._reader.schema).combine_chunks()
        columns = {position: table.column(str(position)).chunk(0) if count else None for position in self._positions}
        return _Records(columns, np.arange(first_line, first_line + count, dtype=np.int64)), finished


class _ReaderRows:
    """Rows read by the CSV reader (each cell a string, as it has to be): text with quotes, or after Arrow gave up."""

    def __init__(self, reader: Any, lines_before: int, fields: int, positions: list[int]) -> None:
        self._reader: Iterator[list[str]] = reader
        self._line_number: Callable[[], int] = lambda: lines_before + reader.line_num
        """The lines of the text read so far."""
        self._fields = fields
        self._positions = positions

    def read(self, size: int) -> tuple[_Records, bool] | None:
        """At most ``size`` records' rows and whether they are the last; ``None`` at a row it cannot accept.

        The records are read by the reader's own loop, without a Python step each: a record that spans lines (a
        quoted line break) is given up on, so that each record is a line and their lines are counted, not asked.
        """
        first_line = self._line_number() + 1
        try:
            records = list(itertools.islice(self._reader, size))
        except csv.Error:
            return None
        taken = len(records)
        if self._line_number() - first_line + 1 != taken:
            return None  # a record of several lines
        lines = np.arange(first_line, first_line + taken, dtype=np.int64)
        if [] in records:  # empty lines are skipped
            kept = np.flatnonzero(np.fromiter(map(bool, records), dtype=bool, count=len(records)))
            lines = lines[kept]
            records = [records[n] for n in kept.tolist()]
        if records and set(map(len, records)) != {self._fields}:
            return None
        given = list(zip(*records, strict=True)) if records else [()] * self._fields
        columns = {p: pa.array(given[p], type=pa.string()) for p in self._positions}
        return _Records(columns, lines), taken < size


class _Rows:
    """The rows of a load after its header: by Arrow while it reads them as the CSV reader would, then by the reader.

    Text with quotes or NULs is the reader's from the start. Arrow hands the rows over at a parse error (a row of
    other fields) or at a block with a row whose first field is empty (an empty line, which the reader skips, or a
    row the check refuses): the reader goes on from that block's first line, found by counting line ends (each row
    Arrow handed out is one line).
    """

    def __init__(self, text: str, fields: int, positions: list[int], reader: Any | None) -> None:
        """``reader``: the CSV reader that read the header (``None``: Arrow reads the rows, if it can)."""
        self._text = text
        self._fields = fields
        self._positions = positions
        self._handed = 0
        """Rows handed out (Arrow's: each a line)."""
        self._arrow: _ArrowRows | None = None
        self._reader: _ReaderRows | None = None
        if reader is not None:
            self._reader = _ReaderRows(reader, 0, fields, positions)
            return
        try:
            self._arrow = _ArrowRows(text.encode(), fields, positions)
        except pa.ArrowInvalid:
            self._to_reader()

    def read(self, size: int) -> tuple[_Records, bool] | None:
        """About ``size`` rows and whether they are the last; ``None`` at a row the reader cannot accept."""
        if self._arrow is not None:
            try:
                records, finished = self._arrow.read(size, self._handed + 2)
            except pa.ArrowInvalid:
                self._to_reader()
            else:
                first = records.columns[0]
                if first is None or not pc.any(pc.equal(first, "")).as_py():
                    self._handed += len(records.lines)
                    return records, finished
                self._to_reader()
        assert self._reader is not None
        return self._reader.read(size)

    def _to_reader(self) -> None:
        lines = self._handed + 1  # and the header
        ends = itertools.islice(_LINE_END.finditer(self._text), lines - 1, lines)
        start = next((end.end() for end in ends), len(self._text))
        reader = csv.reader(io.StringIO(self._text[start:], newline=""), strict=True)
        self._arrow = None
        self._reader = _ReaderRows(reader, lines, self._fields, self._positions)


class QuickCsv:
    """The quick check of one SDMX-CSV load, block by block (the next block is checked while one loads)."""

    def __init__(self, text: str, flow: Dataflow, *, repeats: bool = True) -> None:
        """``repeats``: look for a series and period given twice (else whoever stores the rows must refuse them)."""
        self.flow = flow
        self.finished = False
        """Whether every row has been read."""
        self._rows: _Rows | None = None
        # Arrow's parser reads no quotes (the reader's rules for them are stricter than its), nor NULs
        reader = csv.reader(io.StringIO(text, newline=""), strict=True) if '"' in text or "\x00" in text else None
        try:
            if reader is None:
                end = _LINE_END.search(text)
                first = text[: end.start()] if end else text
                header = csv_header(first.split(",") if first else None, flow)
            else:
                header = csv_header(next(reader, None), flow)
        except (UnreadableLoad, csv.Error):
            return
        structure = flow.structure
        by_name = {name: position for position, name in header.columns.items()}
        dimensions = list(structure.dimensions)
        attributes = [a for a in structure.series_attributes() if a.id in by_name or a.mandatory]
        if not all(a.id in by_name for a in attributes):
            return  # a mandatory attribute's column missing: every row is refused, by RowChecker
        self._header: CsvHeader = header
        self._components = [*dimensions, *attributes]
        self._dimension_count = len(dimensions)
        self._attribute_ids = [a.id for a in attributes]
        self._series_positions = [by_name[c.id] for c in self._components]
        self._frequency_index = [c.id for c in dimensions].index("FREQ")
        self._frequency_position = by_name["FREQ"]
        self._time_position = by_name["TIME_PERIOD"]
        self._value_position = by_name.get("OBS_VALUE")
        self._status_position = by_name.get("OBS_STATUS")
        status = structure.component("OBS_STATUS")
        self._status_codes = frozenset(CODELISTS[status.codelist].names()) if status and status.codelist else None
        """The codes ``OBS_STATUS`` may have (``None``: any)."""
        self._areas = [
            (index, dimension) for index, dimension in enumerate(dimensions) if dimension.codelist == AREA_CODELIST
        ]
        """Each area-coded dimension, with its place among the series' values."""
        optional = [self._status_position, self._value_position, header.action_column]
        positions = sorted(
            {0, 1, self._time_position, *self._series_positions, *(p for p in optional if p is not None)}
        )
        self._rows = _Rows(text, header.fields, positions, reader)
        self._fine: list[set[str]] = [set() for _ in self._components]
        """Per component of the series, the values found fine (regions: before their periods are looked at)."""
        self._series: dict[tuple[str, ...], int] = {}
        """Series (its dimensions' and attributes' values) → number."""
        self._series_count = 0
        self._keys: set[str] = set()
        """Dimension values of the series (the same key with other attributes: a conflict RowChecker words)."""
        self._periods: list[Period] = []
        self._period_numbers: dict[tuple[str, str], int] = {}
        """(frequency, period text) → number."""
        self._statuses: list[str | None] = []
        self._status_numbers: dict[str, int] = {}
        self._area_numbers: dict[str, int] = {}
        self._area_periods: set[int] = set()
        """(area code's number, period number) pairs found to be divisions then, as :data:`_PAIR` numbers."""
        self._pairs: Numbers | None = np.empty(0, dtype=np.int64) if repeats else None
        """Every (series, period) of the load so far, as :data:`_PAIR` numbers, sorted."""

    @property
    def usable(self) -> bool:
        """Whether its header lets it check rows at all (else ``RowChecker`` has the load)."""
        return self._rows is not None

    def block(self, size: int) -> CheckedBlock | None:
        """About the next ``size`` observations (none: the load is read); ``None`` at a row it cannot accept.

        The block's :attr:`~.columns.CheckedBlock.series` are those first seen in it (numbered from the load's
        first), its periods and statuses every one seen so far.
        """
        if self._rows is None:
            return None
        try:
            read = self._rows.read(size)
        except pa.ArrowInvalid:
            return None  # a row of other fields than the header's
        if read is None:
            return None
        records, self.finished = read
        try:
            return self._check(records)
        except pa.ArrowInvalid:
            return None

    def _check(self, records: _Records) -> CheckedBlock | None:
        count = len(records.lines)
        none = np.empty(0, dtype=np.int64)
        if count == 0:
            return CheckedBlock([], list(self._periods), list(self._statuses), none, none, np.empty(0), none)
        columns = records.columns
        action = self._header.action_column
        if (
            not _only(columns[0], {"dataflow"})
            or not _only(columns[1], {self.flow.structure_id})
            or (action is not None and not _only(columns[action], LOADABLE_ACTIONS))
        ):
            return None
        # each row's series: the distinct combinations of its columns' values, in order of first appearance (as
        # RowChecker's observations number them), each numbered and, where new, checked here
        indices, firsts = _distinct_rows([columns[p] for p in self._series_positions])
        chosen = pa.array(firsts)
        series_values: list[tuple[str, ...]] = list(
            zip(*(columns[p].take(chosen).to_pylist() for p in self._series_positions), strict=True)
        )
        new_series: list[LoadedSeries] = []
        numbers = self._series_numbers(series_values, records.lines[firsts], new_series)
        if numbers is None:
            return None
        series_numbers = numbers[indices]
        period_numbers = self._periods_of(columns, series_values)
        if period_numbers is None or not self._areas_hold(series_values, indices, period_numbers):
            return None
        if self._pairs is not None and not self._first_pairs(series_numbers, period_numbers):
            return None  # a series and period given twice
        values = self._values(columns[self._value_position] if self._value_position is not None else None, count)
        if values is None:
            return None
        statuses = self._statuses_of(
            columns[self._status_position] if self._status_position is not None else None, count
        )
        if statuses is None:
            return None
        return CheckedBlock(
            series=new_series,
            periods=list(self._periods),
            statuses=list(self._statuses),
            series_numbers=series_numbers,
            period_numbers=period_numbers,
            values=values,
            status_numbers=statuses,
        )

    def _series_numbers(
        self, distinct: list[tuple[str, ...]], lines: Numbers, new_series: list[LoadedSeries]
    ) -> Numbers | None:
        """The number of each distinct series (first at ``lines``), new ones checked, numbered and in ``new_series``."""
        known = self._series
        found = [known.get(values, -1) for values in distinct]
        if -1 in found:
            for number, values in enumerate(distinct):
                if found[number] == -1:
                    series = self._new_series(values, int(lines[number]))
                    if series is None:
                        return None
                    found[number] = known[values] = self._series_count
                    self._series_count += 1
                    new_series.append(series)
        return np.array(found, dtype=np.int64)

    def _new_series(self, values: tuple[str, ...], line: int) -> LoadedSeries | None:
        """Check a series first seen at ``line``; ``None`` when a rule refuses it (or may)."""
        count = self._dimension_count
        dimensions = tuple(values[:count])
        key = series_key(dimensions)
        if key in self._keys:  # the same key with other attributes: a conflict, or a missing attribute
            return None
        for fine, component, value in zip(self._fine, self._components, values, strict=True):
            if value in fine:  # each distinct value of each column is checked once (regions: with their periods)
                continue
            if value == "" or (component.id == "FREQ" and value not in self.flow.frequencies):
                return None  # a value missing (mandatory, or RowChecker decides), or a frequency not held
            if component.codelist != AREA_CODELIST and code_problem(component, value, None, None):
                return None
            fine.add(value)
        self._keys.add(key)
        attributes = dict(zip(self._attribute_ids, values[count:], strict=True))
        return LoadedSeries(key, dimensions, attributes, line)

    def _periods_of(self, columns: dict[int, Strings], series_values: list[tuple[str, ...]]) -> Numbers | None:
        """Each row's period number, new ones parsed; ``None`` when one is not a period of its row's frequency."""
        frequencies = {values[self._frequency_index] for values in series_values}
        texts = columns[self._time_position]
        if len(frequencies) == 1:
            (frequency,) = frequencies
            encoded = pc.dictionary_encode(texts)
            indices = _numbers(encoded.indices)
            pairs = [(frequency, text) for text in encoded.dictionary.to_pylist()]
        else:  # rows of several frequencies: each period with its row's
            indices, firsts = _distinct_rows([columns[self._frequency_position], texts])
            chosen = pa.array(firsts)
            given = columns[self._frequency_position].take(chosen).to_pylist()
            pairs = list(zip(given, texts.take(chosen).to_pylist(), strict=True))
        numbers = []
        for pair in pairs:  # in order of first appearance, as RowChecker's observations number them
            number = self._period_numbers.get(pair)
            if number is None:
                try:
                    period = parse(pair[1], pair[0])
                except PeriodError:
                    return None
                number = self._period_numbers[pair] = len(self._periods)
                self._periods.append(period)
            numbers.append(number)
        return np.array(numbers, dtype=np.int64)[indices]

    def _areas_hold(self, series_values: list[tuple[str, ...]], indices: Numbers, period_numbers: Numbers) -> bool:
        """Whether each row's area codes are divisions during its period (decided per code and period)."""
        for index, dimension in self._areas:
            codes = [values[index] for values in series_values]
            areas = np.array([self._area_numbers.setdefault(code, len(self._area_numbers)) for code in codes])
            pairs: list[int] = np.unique(areas[indices] * _PAIR + period_numbers).tolist()
            names = {number: code for code, number in zip(codes, areas.tolist(), strict=True)}
            for pair in pairs:
                if pair in self._area_periods:
                    continue
                period = self._periods[pair % _PAIR]
                if code_problem(dimension, names[pair // _PAIR], period.start, period.end) is not None:
                    return False
                self._area_periods.add(pair)
        return True

    def _first_pairs(self, series_numbers: Numbers, period_numbers: Numbers) -> bool:
        """Whether no (series, period) of the block is given twice, in it or before it (and remember them)."""
        assert self._pairs is not None
        pairs = np.sort(series_numbers * _PAIR + period_numbers)
        if bool((pairs[1:] == pairs[:-1]).any()) or bool(np.isin(pairs, self._pairs, assume_unique=True).any()):
            return False
        self._pairs = np.union1d(self._pairs, pairs)
        return True

    @staticmethod
    def _values(given: Strings | None, count: int) -> npt.NDArray[np.float64] | None:
        """``OBS_VALUE`` of each row (``NaN``: empty); ``None`` when one may not be a finite number."""
        if given is None:
            return np.full(count, np.nan)
        empty = pc.equal(given, "")
        if not pc.all(pc.or_(empty, pc.match_substring_regex(given, _NUMBER))).as_py():
            return None
        some_empty = pc.any(empty).as_py()
        # read as Python's ``float`` reads them: correctly rounded (Arrow's parser is fast_float's)
        numbers: npt.NDArray[np.float64] = pc.cast(
            pc.if_else(empty, "0", given) if some_empty else given, pa.float64()
        ).to_numpy(zero_copy_only=False)
        if not np.isfinite(numbers).all():
            return None
        if some_empty:
            numbers = numbers.copy()
            numbers[empty.to_numpy(zero_copy_only=False)] = np.nan
        return numbers

    def _statuses_of(self, given: Strings | None, count: int) -> Numbers | None:
        """Each row's ``OBS_STATUS`` by number (empty: ``None``); ``None`` when one is not a code."""
        if given is None:
            codes, indices = [""], np.zeros(count, dtype=np.int64)
        else:
            encoded = pc.dictionary_encode(given)
            codes, indices = encoded.dictionary.to_pylist(), _numbers(encoded.indices)
        numbers = []
        for code in codes:
            number = self._status_numbers.get(code)
            if number is None:
                if code and self._status_codes is not None and code not in self._status_codes:
                    return None
                number = self._status_numbers[code] = len(self._statuses)
                self._statuses.append(code or None)
            numbers.append(number)
        return np.array(numbers, dtype=np.int64)[indices]


def _only(column: Strings, allowed: set[str] | frozenset[str]) -> bool:
    """Whether every value of ``column`` is one of ``allowed``."""
    return set(pc.unique(column).to_pylist()) <= allowed


def _distinct_rows(columns: list[Strings]) -> tuple[Numbers, Numbers]:
    """Each row's number among the distinct rows of ``columns``, and the row where each first appears.

    Distinct rows are numbered in order of first appearance, as Arrow's dictionaries number values. Each column's
    dictionary numbers its values; a row's numbers are combined into one (mixed radix), renumbered by a dictionary
    of those before they could overflow, and the whole by one at the end (hashing whole columns: joining a row's
    values into a text per row took several times as long, measured).
    """
    combined: Numbers | None = None
    size = 1
    for column in columns:
        encoded = pc.dictionary_encode(column)
        count = len(encoded.dictionary)
        if combined is not None and size * count >= 1 << 62:
            combined, size = _renumbered(combined)
        given = _numbers(encoded.indices)
        combined = given if combined is None else combined * count + given
        size *= count
    assert combined is not None
    indices, _ = _renumbered(combined)
    # the first row of each: where the highest number so far rises (new numbers come in order)
    highest = np.maximum.accumulate(indices)
    firsts = np.flatnonzero(np.concatenate(([True], highest[1:] > highest[:-1])))
    return indices, firsts


def _renumbered(numbers: Numbers) -> tuple[Numbers, int]:
    """``numbers`` renumbered from 0 in order of first appearance, and how many distinct ones there are."""
    encoded = pc.dictionary_encode(pa.array(numbers))
    return _numbers(encoded.indices), len(encoded.dictionary)


def _numbers(indices: Any) -> Numbers:
    """Arrow's dictionary indices as numbers to index numpy arrays with."""
    found: Numbers = indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return found


def quick_csv(text: str, flow: Dataflow) -> CheckedLoad | None:
    """The observations of an SDMX-CSV 2.0 load when every row passes; ``None`` when one may not (check it again)."""
    quick = QuickCsv(text, flow)
    found = quick.block(sys.maxsize)
    return found.checked_load() if found else None
