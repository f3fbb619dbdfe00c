"""Reading an uploaded file of records as it streams in: CSV (RFC 4180, header row) or NDJSON.

Reading happens in two places. The request's process cuts the byte stream into :class:`Block` s of whole records
(:func:`blocks`: it reads only the CSV header, and looks at nothing but line ends and quotes), so memory is bounded
by the block, not the file. Worker processes turn each block into rows with their line numbers (:func:`block_rows`),
in parallel with one another and with the database load.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

Format = Literal["csv", "ndjson"]

#: Media types an import file may be sent as, and the format each means.
MEDIA_TYPES: dict[str, Format] = {
    "text/csv": "csv",
    "application/x-ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/ndjson": "ndjson",
}


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


class InvalidFile(ValueError):
    """The file cannot be imported at all: nothing of it is."""


class InvalidHeader(InvalidFile):
    """The CSV header is missing, is not CSV, or names an unknown column or one twice."""


class NotUtf8(InvalidFile):
    """Some line of the file is not UTF-8 text."""


@dataclass(frozen=True)
class Block:
    """Whole records of a file, as bytes, with what a worker needs to read them (it pickles cheaply)."""

    file_format: Format
    first_line: int
    """Line number of the block's first line (the CSV header is line 1)."""
    data: bytes
    """Complete lines (the last one ends the file when ``final``); never a record cut in two."""
    final: bool
    header: tuple[str, ...] = ()
    """The CSV header's column names."""


def _decoded(data: bytes, first_line: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = first_line + data.count(b"\n", 0, error.start)
        raise NotUtf8(
            f"line {line} is not UTF-8 text (byte 0x{data[error.start]:02x}: {error.reason}); "
            "save the file as UTF-8 and send it again"
        ) from None


_BOM = b"\xef\xbb\xbf"
#: Bytes read without finding the end of a block (or of the header) after which the file is refused: a quoted
#: field left open, or lines far longer than any record's, would otherwise hold the whole upload in memory.
MAX_BLOCK_BYTES = 64 << 20
#: Lines a CSV reader takes at a time: a quote sends only its own group of lines through the (slower) csv module.
_STEP_LINES = 100


async def blocks(
    body: AsyncIterator[bytes], file_format: Format, columns: Iterable[str], *, block_lines: int
) -> AsyncIterator[Block]:
    """The file in ``body`` cut into blocks of ``block_lines`` lines, each extended to the end of its last record.

    A CSV record may span lines inside quotes; a line ends a record when the quotes before it balance. Raises
    :class:`InvalidHeader` for a CSV file without a good header, and :class:`NotUtf8` when the header is not UTF-8
    (workers raise it for the other lines). A UTF-8 byte order mark at the start is dropped.
    """
    known = frozenset(columns)
    cutter = _Cutter(quoted=file_format == "csv", block_lines=block_lines)
    header: tuple[str, ...] = ()
    line = 1
    started = False
    buffer = bytearray()
    async for chunk in body:
        buffer += chunk
        if not started:
            if len(buffer) < len(_BOM) and _BOM.startswith(buffer):
                continue
            started = True
            if buffer.startswith(_BOM):
                del buffer[: len(_BOM)]
        if file_format == "csv" and not header:
            found = _header(buffer, known, final=False)
            if found is None:
                if len(buffer) > MAX_BLOCK_BYTES:
                    raise InvalidHeader(f"no header row in the first {MAX_BLOCK_BYTES >> 20} MiB of the file")
                continue
            header, used = found
            line += buffer.count(b"\n", 0, used)
            del buffer[:used]
        while (cut := cutter.cut(buffer)) is not None:
            data = bytes(buffer[:cut])
            del buffer[:cut]
            yield Block(file_format, line, data, final=False, header=header)
            line += data.count(b"\n")
        if len(buffer) > MAX_BLOCK_BYTES:
            raise InvalidFile(
                f"from line {line}, {MAX_BLOCK_BYTES >> 20} MiB hold fewer than {block_lines} complete records: "
                "a quoted field is not closed, or lines are far longer than a record"
            )
    if not started and buffer.startswith(_BOM):
        del buffer[: len(_BOM)]
    if file_format == "csv" and not header:
        found = _header(buffer, known, final=True)
        if found is None:
            raise InvalidHeader("the file is empty: a CSV import starts with a header row naming its columns")
        header, used = found
        line += buffer.count(b"\n", 0, used)
        del buffer[:used]
    yield Block(file_format, line, bytes(buffer), final=True, header=header)


class _Cutter:
    """Finds where the next block ends in the bytes read so far: after its last line, at the end of a record."""

    def __init__(self, *, quoted: bool, block_lines: int) -> None:
        self._quoted = quoted
        self._block_lines = block_lines

    def cut(self, buffer: bytearray) -> int | None:
        """The length of the next block at the start of ``buffer``, or ``None`` until more of the file arrives."""
        if buffer.count(b"\n") < self._block_lines:
            return None
        end = 0
        for _ in range(self._block_lines):
            end = buffer.index(b"\n", end) + 1
        if self._quoted:
            quotes = buffer.count(b'"', 0, end)
            while quotes % 2:  # inside a quoted field: the record goes on to a later line
                following = buffer.find(b"\n", end)
                if following < 0:
                    return None
                quotes += buffer.count(b'"', end, following + 1)
                end = following + 1
        return end


def _header(buffer: bytearray, known: frozenset[str], *, final: bool) -> tuple[tuple[str, ...], int] | None:
    """The CSV header's columns and the bytes up to its end (blank lines before it included), or ``None`` yet."""
    start = end = 0
    while True:
        following = buffer.find(b"\n", end)
        if following < 0:
            if not final:
                return None
            following = len(buffer)
        record = bytes(buffer[start:following])
        if record.count(b'"') % 2 and following < len(buffer):
            end = following + 1  # a quoted field goes on to the next line
            continue
        text = _decoded(record, 1 + buffer.count(b"\n", 0, start)).removesuffix("\r")
        if not text.strip():
            if following >= len(buffer):
                return None
            start = end = following + 1  # blank lines before the header are skipped
            continue
        try:
            fields = next(csv.reader([text], strict=True))
        except csv.Error as error:
            raise InvalidHeader(f"the header row is not valid CSV: {error}") from None
        return _checked_header(fields, known), following + 1


def _checked_header(fields: list[str], known: frozenset[str]) -> tuple[str, ...]:
    header = tuple(field.strip() for field in fields)
    unknown = [name for name in header if name not in known]
    if unknown:
        raise InvalidHeader(f"unknown columns {unknown}; known columns are {sorted(known)}")
    if len(set(header)) != len(header):
        raise InvalidHeader("a column is named twice in the header")
    return header


def nul_free(block: Block) -> bool:
    """Whether no row of ``block`` can hold U+0000: neither the byte nor, in NDJSON, JSON's escape of it is there.

    (An escaped backslash before ``u0000`` is a false alarm, which only costs the rows the full check.)
    """
    return b"\x00" not in block.data and (block.file_format == "csv" or b"\\u0000" not in block.data)


def block_rows(block: Block, plain_reader: PlainReader = _no_plain_reader) -> list[RawRow]:
    """The rows of ``block`` with their line numbers; raises :class:`NotUtf8` for a line that is not UTF-8.

    ``plain_reader`` reads plain CSV lines straight into typed fields (see :class:`RawRow`).
    """
    lines = [line.removesuffix("\r") for line in _decoded(block.data, block.first_line).split("\n")]
    if not block.final or not lines[-1]:
        lines.pop()  # what follows the block's last line end: nothing, or the next block
    if block.file_format == "ndjson":
        return list(_NdjsonRows(block.first_line).read(lines))
    reader = _CsvRows(block.header, plain_reader(block.header), block.first_line)
    found: list[RawRow] = []
    for start in range(0, len(lines), _STEP_LINES):
        found.extend(reader.read(lines[start : start + _STEP_LINES]))
    if block.final:
        found.extend(reader.finish())
    return found


class _NdjsonRows:
    def __init__(self, first_line: int) -> None:
        self._line = first_line - 1

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

    def __init__(self, header: Sequence[str], plain: Callable[[str], dict[str, Any] | None], first_line: int) -> None:
        self._header = header
        self._plain = plain
        self._pending: list[str] = []
        self._pending_line = 0
        self._line = first_line - 1

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
        if self._pending or _needs_csv_reader(lines):
            yield from self._read_records(self._records(lines))
            return
        # Plain lines (no quote, no carriage return inside a line): each line is one record, and splitting it
        # at commas gives exactly the fields csv.reader would, at a fraction of the cost.
        header = self._header
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
        except csv.Error:  # find the bad record(s) one by one; the rest of the block still counts
            parsed = [_parse_one(text) for _, text in records]
        header = self._header
        for (line, text), fields in zip(records, parsed, strict=True):
            if not text.strip():
                continue
            if isinstance(fields, str):
                yield RawRow(line, None, f"not valid CSV: {fields}")
                continue
            if len(fields) != len(header):
                yield RawRow(line, None, f"has {len(fields)} fields, the header has {len(header)}")
                continue
            yield RawRow(line, {name: value for name, value in zip(header, fields, strict=True) if value != ""})

    def finish(self) -> Iterable[RawRow]:
        if self._pending:
            yield RawRow(self._pending_line, None, "unterminated quoted field at the end of the file")
