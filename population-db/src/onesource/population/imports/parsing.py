"""Reading an uploaded file of person rows as it streams in: CSV (RFC 4180, header row) or NDJSON.

Rows come out in batches with their line numbers, so memory is bounded by the batch, not the file.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, Literal

Format = Literal["csv", "ndjson"]


@dataclass(frozen=True)
class RawRow:
    """One row as the file gave it: its field values, or why it could not be read at all."""

    line: int
    values: dict[str, Any] | None
    unreadable: str | None = None


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
    body: AsyncIterator[bytes], file_format: Format, columns: Iterable[str], *, batch_rows: int
) -> AsyncIterator[list[RawRow]]:
    """Batches of rows read from ``body``; raises :class:`InvalidHeader` or ``UnicodeDecodeError`` on a bad file."""
    known = frozenset(columns)
    reader = _CsvRows(known) if file_format == "csv" else _NdjsonRows()
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


class _CsvRows:
    """CSV records may span lines inside quotes; a record is complete when its quotes balance."""

    def __init__(self, known: frozenset[str]) -> None:
        self._known = known
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
        records = self._records(lines)
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
