"""Cutting an upload into blocks loses, splits and reorders nothing, however the bytes arrive."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onesource.population.imports import parsing
from onesource.population.imports.schemas import IMPORT_COLUMNS

COLUMNS = ("id_number", "name", "household_address")
# cells with what makes CSV records span lines or need quotes, and text that is only a look-alike of it
cells = st.lists(st.sampled_from(["a", "东", '"', ",", "\n", "\r\n", " ", "é"]), max_size=6).map("".join)
records = st.lists(st.tuples(cells, cells, cells), max_size=25)


def csv_file(rows: list[tuple[str, str, str]], *, bom: bool, blank_lines: int) -> bytes:
    buffer = io.StringIO()
    buffer.write("\n" * blank_lines)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()


async def _chunks(body: bytes, cuts: list[int]) -> AsyncIterator[bytes]:
    start = 0
    for cut in sorted({min(cut, len(body)) for cut in cuts}):
        yield body[start:cut]
        start = cut
    yield body[start:]


def read(body: bytes, cuts: list[int], block_lines: int, file_format: parsing.Format = "csv") -> list[parsing.Block]:
    async def collect() -> list[parsing.Block]:
        return [
            block
            async for block in parsing.blocks(_chunks(body, cuts), file_format, IMPORT_COLUMNS, block_lines=block_lines)
        ]

    return asyncio.run(collect())


@settings(max_examples=300, deadline=None)
@given(
    records,
    st.lists(st.integers(min_value=0, max_value=400), max_size=8),
    st.integers(min_value=1, max_value=4),
    st.booleans(),
    st.integers(min_value=0, max_value=2),
)
def test_blocks_hold_every_record_whole_and_in_order(
    rows: list[tuple[str, str, str]], cuts: list[int], block_lines: int, bom: bool, blank_lines: int
) -> None:
    body = csv_file(rows, bom=bom, blank_lines=blank_lines)
    blocks = read(body, cuts, block_lines)

    assert [block.final for block in blocks] == [False] * (len(blocks) - 1) + [True]
    assert {block.header for block in blocks} == {COLUMNS}
    # together the blocks are the file after its header, in order, and each starts on the line it says
    header_end = body.index(b"\n", body.index(b"id_number")) + 1
    assert b"".join(block.data for block in blocks) == body[header_end:]
    line = body[:header_end].count(b"\n") + 1
    for block in blocks:
        assert block.first_line == line
        line += block.data.count(b"\n")
    # no record is cut in two: each block reads alone into whole records, the ones csv reads from the whole file
    read_rows = [row for block in blocks for row in parsing.block_rows(block)]
    expected = [
        {name: value for name, value in zip(COLUMNS, fields, strict=True) if value != ""}
        for fields in csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))
        if fields  # a blank line
    ][1:]
    assert [row.values for row in read_rows] == [
        {name: value.replace("\r\n", "\n") for name, value in values.items()} for values in expected
    ]


def test_a_block_ends_after_its_lines_or_at_the_end_of_the_record_in_progress() -> None:
    body = b'id_number,name\n1,a\n2,"b\nc"\n3,d\n4,e\n'
    blocks = read(body, [], block_lines=2)
    assert [(block.first_line, block.data) for block in blocks] == [
        (2, b'1,a\n2,"b\nc"\n'),
        (5, b"3,d\n4,e\n"),
        (7, b""),
    ]
    [row] = [row for row in parsing.block_rows(blocks[0]) if row.line == 3]
    assert row.values == {"id_number": "2", "name": "b\nc"}


def test_an_unterminated_quote_at_the_end_is_one_refused_row() -> None:
    blocks = read(b'id_number,name\n1,a\n2,"b\n3,c\n', [], block_lines=1)
    rows = [row for block in blocks for row in parsing.block_rows(block)]
    assert [(row.line, row.unreadable) for row in rows] == [
        (2, None),
        (3, "unterminated quoted field at the end of the file"),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the file is empty"),
        (b"\n\n", "the file is empty"),
        (b"id_number,shoe_size\n", "unknown columns ['shoe_size']"),
        (b"id_number,id_number\n", "named twice"),
        (b'id_number,"name\n', "not valid CSV"),
        (b"id_number,n\xe9\n", "line 1 is not UTF-8"),
    ],
)
def test_a_bad_header_fails_the_file(body: bytes, message: str) -> None:
    with pytest.raises(parsing.InvalidFile, match=message.replace("[", r"\[").replace("]", r"\]")):
        read(body, [], block_lines=10)


def test_a_line_that_is_not_utf8_is_named() -> None:
    blocks = read(b'{"a": 1}\n{"b": 2}\n{"c": "\xe9"}\n', [], block_lines=2, file_format="ndjson")
    assert parsing.block_rows(blocks[0])[1].values == {"b": 2}
    with pytest.raises(parsing.NotUtf8, match="line 3 is not UTF-8"):
        parsing.block_rows(blocks[1])


def test_a_quoted_field_left_open_fails_the_file_instead_of_filling_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "MAX_BLOCK_BYTES", 200)
    body = b'id_number,name\n1,"open\n' + b"2,b\n" * 100
    with pytest.raises(parsing.InvalidFile, match="from line 2, 0 MiB hold fewer than 10 complete records"):
        read(body, list(range(0, len(body), 50)), block_lines=10)
    with pytest.raises(parsing.InvalidHeader, match="no header row"):
        read(b'"id_number\n' + b"x\n" * 200, list(range(0, 500, 50)), block_lines=10)
