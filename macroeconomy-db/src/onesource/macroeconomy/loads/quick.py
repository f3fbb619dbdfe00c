"""The quick check of SDMX-CSV loads: column by column, every rule decided once per distinct value.

A large load repeats a few values in every row (a series' dimensions and attributes, the periods, the statuses).
:class:`QuickCsv` splits a block of rows into columns and applies :class:`~.checking.RowChecker`'s rules, the same
functions, once per series, per period and per (area, period); what is left per row (lookups, the duplicate check,
the numbers) is done by the interpreter's built-ins over whole columns (``map``, ``set``, ``str.split``), without a
Python step per row: a million rows are most of a load's time otherwise. It only accepts: at the first block it
cannot accept (any problem, or anything unusual) it gives up, and the load is checked again by ``RowChecker``,
which finds and words every problem with its line and column. So an accepted load is one ``RowChecker`` accepts,
with the same observations (a test holds them so), and a refused one is reported exactly as before.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import sys
from collections.abc import Callable, Iterator

from onesource.kit.collector import COLLECTOR_PAUSE
from onesource.macroeconomy.dataflows.codes import code_problem
from onesource.macroeconomy.dataflows.definitions import AREA_CODELIST, CODELISTS, Component, Dataflow
from onesource.macroeconomy.loads.checking import CheckedLoad, LoadedSeries
from onesource.macroeconomy.loads.parsing import LOADABLE_ACTIONS, CsvHeader, UnreadableLoad, csv_header
from onesource.macroeconomy.series.keys import series_key
from onesource.macroeconomy.series.periods import PeriodError, parse

#: What a number of SDMX-CSV may hold besides digits: with ``float`` accepting it, exactly ``checking.NUMBER``
#: (``float`` alone also takes ``nan``, ``inf``, ``1_000`` and spaces, which these characters exclude).
_NOT_NUMERIC = b"0123456789eE.+-"
_NONE_IF_EMPTY: dict[str, None] = {"": None}
#: Rows checked at a time within a block.
_STEP = 8192


class _Rows:
    """The records of a load, block by block: text of whole lines, or (through the CSV reader) a list of lines.

    Text without quotes, NULs and lone carriage returns is what RFC 4180 reads as lines of comma-separated fields,
    and cutting it at line ends is faster than the CSV reader (nor is it split into lines before it is checked: a
    block's text is cut from it when its turn comes); other text goes through the reader, each record joined again
    (a field holding a comma or a line break then makes the block one the quick check gives up on).
    """

    def __init__(self, text: str) -> None:
        self._reader: Iterator[list[str]] | None = None
        self._text = ""
        self.separator = "\n"
        """What ends a line of :attr:`_text`."""
        self._at = 0
        self._end = 0
        """Where the last line ends (before the text's last line end, if it has one)."""
        self._line_length = 1
        if '"' in text or "\x00" in text:
            self._reader = csv.reader(io.StringIO(text, newline=""), strict=True)
            return
        if "\r" in text:  # CRLF throughout, as SDMX tools write it; otherwise line ends are counted
            breaks = text.count("\r\n")
            if text.count("\r") != breaks:
                self._reader = csv.reader(io.StringIO(text, newline=""), strict=True)  # a lone carriage return
                return
            if text.count("\n") == breaks:
                self.separator = "\r\n"
            else:
                text = text.replace("\r\n", "\n")  # line ends mixed
        self._text = text
        self._end = len(text) - len(self.separator) if text.endswith(self.separator) else len(text)
        sample = text[: 1 << 20]
        self._line_length = max(1, len(sample) // (sample.count(self.separator) + 1))

    def header(self) -> list[str] | None:
        """The header row's fields (``None``: the text is empty)."""
        if self._reader is not None:
            return next(self._reader, None)
        if not self._text:
            return None
        end = self._text.find(self.separator, 0, self._end)
        end = self._end if end == -1 else end
        self._at = min(end + len(self.separator), self._end)
        return self._text[:end].split(",")

    def block(self, size: int) -> tuple[str | list[str], bool] | None:
        """About the next ``size`` records and whether they are the last; ``None``: give up.

        The text's: as text, its lines whole (none: ``""``); the reader's: at most ``size``, each joined as a line.
        """
        if self._reader is None:
            start, end = self._at, self._end
            if start + size * self._line_length < end:
                found = self._text.find(self.separator, start + size * self._line_length, end)
                end = end if found == -1 else found
            self._at = min(end + len(self.separator), self._end)
            return self._text[start:end], end >= self._end
        try:
            records = list(itertools.islice(self._reader, size))
        except csv.Error:
            return None
        if [""] in records:
            return None  # a line of one empty quoted field: a row of one field, refused by RowChecker
        lines = list(map(",".join, records))
        joined = "".join(lines)
        if "\n" in joined or "\r" in joined:
            return None
        return lines, len(records) < size


class QuickCsv:
    """The quick check of one SDMX-CSV load, block by block (the next block is checked while one loads)."""

    def __init__(self, text: str, flow: Dataflow, *, repeats: bool = True) -> None:
        """``repeats``: look for a series and period given twice (else whoever stores the rows must refuse them)."""
        self.flow = flow
        self.finished = False
        """Whether every row has been read."""
        self._rows = _Rows(text)
        self._header: CsvHeader | None = None
        try:
            header = csv_header(self._rows.header(), flow)
        except (UnreadableLoad, csv.Error):
            return
        structure = flow.structure
        by_name = {name: position for position, name in header.columns.items()}
        dimensions = list(structure.dimensions)
        attributes = [a for a in structure.series_attributes() if a.id in by_name or a.mandatory]
        if not all(a.id in by_name for a in attributes):
            return  # a mandatory attribute's column missing: every row is refused, by RowChecker
        self._header = header
        self._dimensions = dimensions
        self._attributes = attributes
        self._series_positions = [by_name[c.id] for c in (*dimensions, *attributes)]
        self._attribute_ids = [a.id for a in attributes]
        self._components = [*dimensions, *attributes]
        self._fine: list[set[str]] = [set() for _ in self._components]
        """Per component of the series, the values found fine (regions: before their periods are looked at)."""
        self._frequency_position = by_name["FREQ"]
        self._time_position = by_name["TIME_PERIOD"]
        self._value_position = by_name.get("OBS_VALUE")
        self._status_position = by_name.get("OBS_STATUS")
        status = structure.component("OBS_STATUS")
        self._statuses = frozenset(CODELISTS[status.codelist].names()) if status and status.codelist else None
        """The codes ``OBS_STATUS`` may have (``None``: any)."""
        self._areas = [
            (by_name[dimension.id], dimension) for dimension in dimensions if dimension.codelist == AREA_CODELIST
        ]
        self._line = 2
        """The line of the next record (an accepted record is one line: no field it accepts holds a line break)."""
        self._series: dict[str, int] = {}
        """Series text (its dimensions and attributes, comma-separated) → number."""
        self._keys: set[str] = set()
        """Dimension values of the series (the same key with other attributes: a conflict RowChecker words)."""
        self._periods: dict[str, dict[str, int]] = {}
        """Per frequency, period text → number."""
        self._area_periods: dict[tuple[int, str], set[int]] = {}
        """Per area-coded column and code, the periods (by number) it is a division during."""
        self._pairs: set[complex] | None = set() if repeats else None
        """Every (series, period) of the load so far, the two numbers as one value."""
        self.found = CheckedLoad([], [], [], [], [], [])

    @property
    def usable(self) -> bool:
        """Whether its header lets it check rows at all (else ``RowChecker`` has the load)."""
        return self._header is not None

    def block(self, size: int) -> CheckedLoad | None:
        """About the next ``size`` observations (none: the load is read); ``None`` at a row it cannot accept.

        The block's :attr:`~.checking.CheckedLoad.series` are those first seen in it (numbered from the load's
        first), its periods every period seen so far.
        """
        header = self._header
        if header is None:
            return None
        first_new = len(self.found.series)
        block = CheckedLoad([], [], [], [], [], [])
        with COLLECTOR_PAUSE:
            while size > 0 and not self.finished:
                # a few thousand rows at a time: their strings stay in the processor's caches from one column
                # to the next (a hundred thousand at once took half as long again, measured)
                step = min(size, _STEP)
                part = self._part(header, step)
                if part is None:
                    return None
                size -= step
                block.series_numbers.extend(part.series_numbers)
                block.period_numbers.extend(part.period_numbers)
                block.values.extend(part.values)
                block.statuses.extend(part.statuses)
        block.series.extend(self.found.series[first_new:])
        block.periods.extend(self.found.periods)
        return block

    def _part(self, header: CsvHeader, size: int) -> CheckedLoad | None:
        """The next ``size`` rows or so, checked (:attr:`~.checking.CheckedLoad.series` and periods left empty)."""
        read = self._rows.block(size)
        if read is None:
            return None
        given, self.finished = read
        first_line = self._line
        numbers: list[int] | None = None  # the line of each row, when empty lines are left out
        split = self._split(header, given) if isinstance(given, str) else None
        if split is not None:
            cells, count, stride, skipped = split
            self._line += count
        else:
            lines = given.split(self._rows.separator) if isinstance(given, str) else given
            if lines == [""] and isinstance(given, str):
                lines = []  # no text left
            self._line += len(lines)
            if "" in lines:
                numbers = [first_line + n for n, line in enumerate(lines) if line]
                lines = list(filter(None, lines))
            count, stride, skipped = len(lines), header.fields, 0
            if not count:
                return CheckedLoad([], [], [], [], [], [])
            if list(map(str.count, lines, itertools.repeat(","))).count(stride - 1) != count:
                return None  # a row with another number of fields
            cells = ",".join(lines).split(",")

        columns: dict[int, list[str]] = {}

        def column(position: int) -> list[str]:
            found = columns.get(position)
            if found is None:
                found = columns[position] = cells[position - skipped :: stride]
            return found

        action = header.action_column
        if not skipped and (
            column(0).count("dataflow") != count
            or column(1).count(self.flow.structure_id) != count
            or (action is not None and not set(column(action)) <= LOADABLE_ACTIONS)
        ):
            return None
        texts = list(map(",".join, zip(*map(column, self._series_positions), strict=True)))
        series_numbers = self._series_numbers(texts, numbers, first_line)
        if series_numbers is None:
            return None
        period_numbers = self._period_numbers(column(self._frequency_position), column(self._time_position))
        if period_numbers is None or not self._areas_hold(column, period_numbers):
            return None
        if self._pairs is not None:
            before = len(self._pairs)
            self._pairs.update(map(complex, series_numbers, period_numbers))
            if len(self._pairs) - before != count:
                return None  # a series and period given twice
        values = self._values(column(self._value_position) if self._value_position is not None else None, count)
        if values is None:
            return None
        statuses: list[str | None] = [None] * count
        if self._status_position is not None:
            given = column(self._status_position)
            codes = set(given)
            codes.discard("")
            if self._statuses is not None and not codes <= self._statuses:
                return None
            if codes:
                statuses = list(map(_NONE_IF_EMPTY.get, given, given))
        return CheckedLoad([], [], series_numbers, period_numbers, values, statuses)

    def _split(self, header: CsvHeader, text: str) -> tuple[list[str], int, int, int] | None:
        """The cells of a block's lines that each begin ``dataflow,<structure id>,[<action>,]``, without those.

        Each line's beginning is checked by replacing it, with the line end before it, by a cell of its own, a NUL
        (which the text holds nowhere else): a line that does not begin so (another action, an empty line, another
        dataflow) keeps its line end and leaves a NUL missing, and the block is read line by line instead. Returns
        the cells, the number of rows, the cells per row with the NUL, and how many fields each row's beginning has.
        ``None``: the block is read line by line (or holds no text).
        """
        beginning = f"dataflow,{self.flow.structure_id},"
        skipped = 2
        if header.action_column is not None:
            end = text.find(",", len(beginning))
            action = text[len(beginning) : end]
            if end == -1 or action not in LOADABLE_ACTIONS:
                return None
            beginning += action + ","
            skipped = 3
        if not text.startswith(beginning):
            return None
        separator = self._rows.separator
        count = text.count(separator) + 1
        rest = text[len(beginning) :].replace(separator + beginning, ",\x00,")
        if rest.count("\x00") != count - 1:
            return None
        cells = rest.split(",")
        stride = header.fields - skipped + 1
        if len(cells) != count * stride - 1 or cells[stride - 1 :: stride].count("\x00") != count - 1:
            return None  # a row with another number of fields
        return cells, count, stride, skipped

    def _series_numbers(self, texts: list[str], numbers: list[int] | None, first_line: int) -> list[int] | None:
        """Each row's series number, new series checked and numbered; ``None`` when a rule refuses one (or may)."""
        known = self._series
        found = list(map(known.get, texts))
        if None not in found:
            return found  # type: ignore[return-value]
        # the first row of each series: its line (reversed, each text's last index in the dict is its first)
        first = dict(zip(reversed(texts), range(len(texts) - 1, -1, -1), strict=True))
        for text, position in sorted(((t, first[t]) for t in first if t not in known), key=lambda new: new[1]):
            line = numbers[position] if numbers is not None else first_line + position
            if not self._new_series(text, line):
                return None
        return list(map(known.__getitem__, texts))

    def _new_series(self, text: str, line: int) -> bool:
        """Check and number a series first seen at ``line``; ``False`` when a rule refuses it (or may)."""
        values = text.split(",")
        count = len(self._dimensions)
        dimensions = tuple(values[:count])
        key = series_key(dimensions)
        if key in self._keys:  # the same key with other attributes: a conflict, or a missing attribute
            return False
        for fine, component, value in zip(self._fine, self._components, values, strict=True):
            if value in fine:  # each distinct value of each column is checked once (regions: with their periods)
                continue
            if value == "" or (component.id == "FREQ" and value not in self.flow.frequencies):
                return False  # a value missing (mandatory, or RowChecker decides), or a frequency not held
            if component.codelist != AREA_CODELIST and code_problem(component, value, None, None):
                return False
            fine.add(value)
        self._keys.add(key)
        self._series[text] = len(self.found.series)
        attributes = dict(zip(self._attribute_ids, values[count:], strict=True))
        self.found.series.append(LoadedSeries(key, dimensions, attributes, line))
        return True

    def _period_numbers(self, frequencies: list[str], texts: list[str]) -> list[int] | None:
        """Each row's period number, new periods parsed; ``None`` when one is not a period of its row's frequency."""
        distinct = set(frequencies)
        if len(distinct) == 1:
            (frequency,) = distinct
            known = self._periods.setdefault(frequency, {})
            found = list(map(known.get, texts))
            if None not in found:
                return found  # type: ignore[return-value]
            for text in dict.fromkeys(texts):  # new periods, numbered in the order they first appear
                if text not in known and not self._new_period(frequency, text):
                    return None
            return list(map(known.__getitem__, texts))
        # several frequencies in one block: each row's own (rarer; a tuple per row)
        pairs = list(zip(frequencies, texts, strict=True))
        for frequency, text in dict.fromkeys(pairs):
            if text not in self._periods.setdefault(frequency, {}) and not self._new_period(frequency, text):
                return None
        return [self._periods[frequency][text] for frequency, text in pairs]

    def _new_period(self, frequency: str, text: str) -> bool:
        try:
            period = parse(text, frequency)
        except PeriodError:
            return False
        self._periods[frequency][text] = len(self.found.periods)
        self.found.periods.append(period)
        return True

    def _areas_hold(self, column: Callable[[int], list[str]], period_numbers: list[int]) -> bool:
        """Whether each row's area codes are divisions during its period (decided per code and period)."""
        in_block = set(period_numbers)
        for position, dimension in self._areas:
            codes: list[str] = column(position)
            doubtful = set()
            for code in set(codes):
                held = self._area_periods.setdefault((position, code), set())
                for number in in_block - held:
                    if self._holds(dimension, code, number):
                        held.add(number)
                    else:
                        doubtful.add(code)
            if not doubtful:
                continue
            # a code that was no division during some period of the block: its own rows' periods, one by one
            for code, number in {(c, p) for c, p in zip(codes, period_numbers, strict=True) if c in doubtful}:
                if number not in self._area_periods[position, code]:
                    return False
        return True

    def _holds(self, dimension: Component, code: str, number: int) -> bool:
        period = self.found.periods[number]
        return code_problem(dimension, code, period.start, period.end) is None

    @staticmethod
    def _values(given: list[str] | None, count: int) -> list[float | None] | None:
        """``OBS_VALUE`` of each row (``None``: empty); ``None`` when one may not be a finite number."""
        if given is None:
            return [None] * count
        present = given if "" not in given else list(filter(None, given))
        joined = "".join(present)
        if not joined.isascii() or joined.encode().translate(None, _NOT_NUMERIC):
            return None
        try:
            numbers = list(map(float, present))
        except ValueError:
            return None
        if not math.isfinite(sum(numbers)):  # an infinite one (or finite ones summing past the range: given up)
            return None
        if present is given:
            return numbers  # type: ignore[return-value]
        found = iter(numbers)
        return [next(found) if value else None for value in given]


def quick_csv(text: str, flow: Dataflow) -> CheckedLoad | None:
    """The observations of an SDMX-CSV 2.0 load when every row passes; ``None`` when one may not (check it again)."""
    found = QuickCsv(text, flow).block(sys.maxsize)
    return found if found else None
