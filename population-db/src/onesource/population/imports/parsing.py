"""Reading an uploaded file of person rows as it streams in: CSV (RFC 4180, header row) or NDJSON.

Rows come out in batches with their line numbers, so memory is bounded by the batch, not the file.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, Literal, NamedTuple

Format = Literal["csv", "ndjson"]


class RawRow(NamedTuple):
    """One row as the file gave it: its field values, or why it could not be read at all.

    A named tuple rather than a dataclass: an import makes one per row, and a tuple is several times cheaper.
    """

    line: int
    values: dict[str, Any] | None
    unreadable: str | None = None
    typed: dict[str, Any] | None = None
    """The row's typed fields when a plain-line reader took it (``values`` is then ``None``)."""


#: Makes, for a CSV header, a reader that turns a plain line (no quote, no carriage return) straight into typed
#: fields, or ``None`` when it is unsure of the line (which is then split into ``values`` as usual).
PlainReader = Callable[[Sequence[str]], Callable[[str], dict[str, Any] | None]]


def _no_plain_reader(header: Sequence[str]) -> Callable[[str], None]:
    return lambda text: None


class InvalidHeader(ValueError):
    """The CSV header names no known column, or an unknown one."""


class _Lines:
    """Splits decoded text into complete lines, keeping the unfinished tail for the next chunk."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
        self._tail = ""

    def feed(self, chunk: bytes, *, final: bool = False) -> list[str]:
        text = self._tail + self._decoder.decode(chunk, final=final)
        lines = text.split("\n")
        self._tail = "" if final else lines.pop()
        return [line.removesuffix("\r") for line in lines]


async def rows(
    body: AsyncIterator[bytes],
    file_format: Format,
    columns: Iterable[str],
    *,
    batch_rows: int,
    plain_reader: PlainReader = _no_plain_reader,
) -> AsyncIterator[list[RawRow]]:
    """Batches of rows read from ``body``; raises :class:`InvalidHeader` or ``UnicodeDecodeError`` on a bad file.

    ``plain_reader`` reads plain CSV lines straight into typed fields (see :class:`RawRow`).
    """
    known = frozenset(columns)
    reader = _CsvRows(known, plain_reader) if file_format == "csv" else _NdjsonRows()
    lines = _Lines()
    batch: list[RawRow] = []
    async for chunk in body:
        for row in reader.read(lines.feed(chunk)):
            batch.append(row)
            if len(batch) >= batch_rows:
                yield batch
                batch = []
    batch.extend(reader.read(lines.feed(b"", final=True)))
    batch.extend(reader.finish())
    if batch:
        yield batch


class _NdjsonRows:
    def __init__(self) -> None:
        self._line = 0

    def read(self, lines: list[str]) -> Iterable[RawRow]:
        for text in lines:
            self._line += 1
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except ValueError as error:
                yield RawRow(self._line, None, f"not JSON: {error}")
                continue
            if not isinstance(value, dict):
                yield RawRow(self._line, None, "each line must be one JSON object")
                continue
            yield RawRow(self._line, value)

    def finish(self) -> Iterable[RawRow]:
        return ()


def _parse_one(text: str) -> list[str] | str:
    """The fields of one CSV record, or the reason it is not CSV."""
    try:
        return next(csv.reader([text], strict=True), [])
    except csv.Error as error:
        return str(error)


def _needs_csv_reader(lines: list[str]) -> bool:
    """Whether some line has a quote (fields with commas, quotes or line breaks) or a lone carriage return."""
    return any('"' in text or "\r" in text for text in lines)


class _CsvRows:
    """CSV records may span lines inside quotes; a record is complete when its quotes balance."""

    def __init__(self, known: frozenset[str], plain_reader: PlainReader) -> None:
        self._known = known
        self._plain_reader = plain_reader
        self._plain: Callable[[str], dict[str, Any] | None] = _no_plain_reader(())
        self._header: list[str] | None = None
        self._pending: list[str] = []
        self._pending_line = 0
        self._line = 0

    def _records(self, lines: list[str]) -> list[tuple[int, str]]:
        records: list[tuple[int, str]] = []
        for text in lines:
            self._line += 1
            if not self._pending:
                self._pending_line = self._line
            self._pending.append(text)
            if sum(part.count('"') for part in self._pending) % 2 == 0:
                records.append((self._pending_line, "\n".join(self._pending)))
                self._pending = []
        return records

    def read(self, lines: list[str]) -> Iterable[RawRow]:
        header = self._header
        if header is None or self._pending or _needs_csv_reader(lines):
            yield from self._read_records(self._records(lines))
            return
        # Plain lines (no quote, no carriage return inside a line): each line is one record, and splitting it
        # at commas gives exactly the fields csv.reader would, at a fraction of the cost.
        width = len(header)
        plain = self._plain
        line = self._line
        for text in lines:
            line += 1
            typed = plain(text)
            if typed is not None:
                yield RawRow(line, None, None, typed)
                continue
            fields = text.split(",")
            if len(fields) == width and (width > 1 or text.strip()):  # with commas, a line is never blank
                yield RawRow(line, {name: value for name, value in zip(header, fields, strict=True) if value})
            elif text.strip():
                yield RawRow(line, None, f"has {len(fields)} fields, the header has {width}")
        self._line = line

    def _read_records(self, records: list[tuple[int, str]]) -> Iterable[RawRow]:
        try:
            parsed: list[list[str] | str] = list(csv.reader([text for _, text in records], strict=True))
        except csv.Error:  # find the bad record(s) one by one; the rest of the batch still counts
            parsed = [_parse_one(text) for _, text in records]
        for (line, text), fields in zip(records, parsed, strict=True):
            if not text.strip():
                continue
            if isinstance(fields, str):
                yield RawRow(line, None, f"not valid CSV: {fields}")
                continue
            if self._header is None:
                self._header = self._check_header(fields)
                self._plain = self._plain_reader(self._header)
                continue
            if len(fields) != len(self._header):
                yield RawRow(line, None, f"has {len(fields)} fields, the header has {len(self._header)}")
                continue
            yield RawRow(line, {name: value for name, value in zip(self._header, fields, strict=True) if value != ""})

    def finish(self) -> Iterable[RawRow]:
        if self._pending:
            yield RawRow(self._pending_line, None, "unterminated quoted field at the end of the file")
        if self._header is None:
            raise InvalidHeader("the file is empty: a CSV import starts with a header row naming its columns")

    def _check_header(self, fields: list[str]) -> list[str]:
        header = [field.strip() for field in fields]
        unknown = [name for name in header if name not in self._known]
        if unknown:
            raise InvalidHeader(f"unknown columns {unknown}; known columns are {sorted(self._known)}")
        if len(set(header)) != len(header):
            raise InvalidHeader("a column is named twice in the header")
        return header
