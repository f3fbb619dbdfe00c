"""Checking import blocks for the registry core: rows to COPY text by the rules, and loads in file order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Date, MetaData, String, Table
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from onesource.registry.imports import checking, parsing
from onesource.registry.rules import FieldProblem

_TABLE = Table(
    "thing",
    MetaData(),
    Column("code", String(8), primary_key=True),
    Column("name", String(40)),
    Column("aliases", ARRAY(String(40))),
    Column("since", Date),
    Column("extra", JSONB),
    Column("plain_json", JSON),
)


def thing_rules(values: Mapping[str, Any], context: checking.RowContext) -> dict[str, Any] | list[FieldProblem]:
    """A registry's rules in miniature: a code is required, names may not hold NUL unless known storable."""
    if "code" not in values:
        return [FieldProblem("code", "is required")]
    if not context.storable and "\x00" in values.get("name", ""):
        return [FieldProblem("name", "contains a NUL character")]
    aliases = values.get("aliases")
    return {
        "code": values["code"],
        "name": values.get("name"),
        "aliases": aliases.split(";") if aliases else [],
        "since": context.today,
        "extra": {"note": values.get("name")} if values.get("name") else None,
        "plain_json": None,
    }


async def _blocks(body: bytes, file_format: parsing.Format = "csv") -> list[parsing.Block]:
    async def chunks() -> AsyncIterator[bytes]:
        yield body

    columns = ("code", "name", "aliases")
    return [block async for block in parsing.blocks(chunks(), file_format, columns, block_lines=100)]


def _check(block: parsing.Block, *, import_id: str | None = None) -> checking.CheckedBlock:
    return checking.check_block(
        checking.BlockCheck(
            block=block,
            rules=thing_rules,
            today=date(2026, 1, 2),
            key="code",
            column_types=checking.column_types(_TABLE),
            record_fields=("code", "name", "aliases", "since", "extra", "plain_json"),
            recorded_by=("amr-registrar", "amr", None),
            confirm_field="name",
            import_id=import_id,
        )
    )


async def test_good_rows_become_copy_text_with_their_first_version_and_refused_rows_keep_their_line() -> None:
    body = b'code,name,aliases\nA1,"tab\there","x;q""uote"\n,nameless,\nB2,back\\slash,\n'
    [block] = await _blocks(body)
    checked = _check(block)

    assert checked.rows_read == 3
    assert checked.columns == ("code", "name", "aliases", "since", "extra", "plain_json")
    assert checked.starts == [2, 4]
    assert checked.confirming == ["tab\there", "back\\slash"]
    assert checked.refusals == [(3, None, "code", "is required")]
    (key, row, version), (_, second_row, _) = checked.records
    assert key == "A1"
    # text COPY escapes (backslash, tab), a text[] literal with every element quoted, ISO dates, JSON text, \N
    assert row == 'A1\ttab\\there\t{"x","q\\\\"uote"}\t2026-01-02\t{"note":"tab\\\\there"}\t\\N\n'
    assert second_row == 'B2\tback\\\\slash\t{}\t2026-01-02\t{"note":"back\\\\\\\\slash"}\t\\N\n'
    assert version == (
        'A1\t1\tregistered\t{"code":"A1","name":"tab\\\\there","aliases":["x","q\\\\"uote"],"since":"2026-01-02",'
        '"extra":{"note":"tab\\\\there"},"plain_json":null}\tamr-registrar\tamr\t\\N\n'
    )


async def test_a_kind_keeping_first_versions_in_its_rows_gets_rows_naming_the_import_and_no_version_rows() -> None:
    [block] = await _blocks(b"code,name,aliases\nA1,x,\n,nameless,\nB2,y,\n")
    import_id = "01a2420e-a858-707f-951f-1c62dda61efb"
    checked = _check(block, import_id=import_id)

    assert checked.columns == ("code", "name", "aliases", "since", "extra", "plain_json", "import_id")
    assert checked.records == [
        ("A1", f'A1\tx\t{{}}\t2026-01-02\t{{"note":"x"}}\t\\N\t{import_id}\n', None),
        ("B2", f'B2\ty\t{{}}\t2026-01-02\t{{"note":"y"}}\t\\N\t{import_id}\n', None),
    ]
    assert checked.refusals == [(3, None, "code", "is required")]


async def test_rows_of_a_csv_block_without_a_nul_byte_are_known_storable_and_ndjson_rows_are_not() -> None:
    [csv_block] = await _blocks(b"code,name\nA1,x\n")
    [ndjson_block] = await _blocks(b'{"code": "A1", "name": "x\\u0000"}\n', "ndjson")

    assert _check(csv_block).refusals == []
    assert _check(ndjson_block).refusals == [(1, "A1", "name", "contains a NUL character")]


async def test_blocks_load_in_file_order_whatever_order_their_checks_end_in() -> None:
    loaded: list[int] = []

    async def blocks() -> AsyncIterator[parsing.Block]:
        for number in range(6):
            yield parsing.Block("csv", number, b"", final=False)

    async def check(block: parsing.Block) -> int:
        await asyncio.sleep(0.01 * (6 - block.first_line))  # later blocks are checked sooner
        return block.first_line

    async def load(number: int) -> None:
        await asyncio.sleep(0)
        loaded.append(number)

    await checking.check_ahead(blocks(), check, load, ahead=3)

    assert loaded == [0, 1, 2, 3, 4, 5]


async def test_no_block_loads_after_a_load_failed() -> None:
    loaded: list[int] = []

    async def blocks() -> AsyncIterator[parsing.Block]:
        for number in range(5):
            yield parsing.Block("csv", number, b"", final=False)

    async def check(block: parsing.Block) -> int:
        return block.first_line

    async def load(number: int) -> None:
        if number == 1:
            raise RuntimeError("the database went away")
        loaded.append(number)

    with pytest.raises(RuntimeError, match="went away"):
        await checking.check_ahead(blocks(), check, load, ahead=2)

    assert loaded == [0]
