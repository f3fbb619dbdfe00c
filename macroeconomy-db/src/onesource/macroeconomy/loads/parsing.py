"""Reading a load: SDMX-CSV 2.0 text or an SDMX-JSON 2.0 data message, as rows of cells by component id.

CSV (SDMX-CSV 2.0 field guide): a header row ``STRUCTURE,STRUCTURE_ID[,ACTION],<component ids>``; each row
``dataflow,<AGENCY:ID(VERSION)>[,I|A|R],…``. Rows must name this dataflow; the action may be Information, Append or
Replace (each load is a new vintage either way); Delete is refused: revisions never remove what was published.
Every column must be a component of the structure that loads may set.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from onesource.macroeconomy.dataflows.definitions import Dataflow
from onesource.macroeconomy.loads.checking import Cell, RowProblem
from onesource.registry.shapes import sdmx

#: Actions a load may carry (SDMX-CSV 2.0 ``ACTION`` / SDMX-JSON ``action``); Delete is refused.
LOADABLE_ACTIONS = frozenset({"I", "A", "R", "Information", "Append", "Replace"})


@dataclass(frozen=True, slots=True)
class Row:
    """One observation of the load, as cells by component id."""

    cells: dict[str, Cell]
    line: int | None = None
    pointer: str | None = None


class UnreadableLoad(ValueError):
    """The message as a whole cannot be read (its header, its syntax); ``problems`` say where."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__("; ".join(problem.reason for problem in problems))
        self.problems = problems


def _loadable(flow: Dataflow) -> set[str]:
    return {component.id for component in flow.structure.components if not component.derived}


@dataclass(frozen=True, slots=True)
class CsvHeader:
    """What an SDMX-CSV 2.0 header row says: each loaded column's component, and where ``ACTION`` is."""

    fields: int
    """How many fields every row has."""
    columns: dict[int, str]
    """0-based position → component id."""
    action_column: int | None


def csv_header(header: list[str] | None, flow: Dataflow) -> CsvHeader:
    """The header row's columns; :class:`UnreadableLoad` when it is not an SDMX-CSV 2.0 header of ``flow``."""
    if not header:
        raise UnreadableLoad([RowProblem(1, None, None, "the load is empty: an SDMX-CSV 2.0 header row is required")])
    problems = []
    if header[:2] != ["STRUCTURE", "STRUCTURE_ID"]:
        problems.append(RowProblem(1, 1, None, "the header must start with STRUCTURE,STRUCTURE_ID (SDMX-CSV 2.0)"))
    loadable = _loadable(flow)
    columns: dict[int, str] = {}
    action_column: int | None = None
    for position, name in enumerate(header[2:], start=2):
        if name == "ACTION" and position == 2:
            action_column = position
        elif name in loadable and name not in columns.values():
            columns[position] = name
        else:
            why = "appears twice" if name in columns.values() else f"is not a component {flow.id} loads may set"
            problems.append(RowProblem(1, position + 1, name or None, f"column {name!r} {why}"))
    missing = [
        c.id for c in (*flow.structure.dimensions, flow.structure.time_dimension) if c.id not in columns.values()
    ]
    if missing:
        problems.append(RowProblem(1, None, None, f"the header lacks the column(s) {', '.join(missing)}"))
    if problems:
        raise UnreadableLoad(problems)
    return CsvHeader(len(header), columns, action_column)


def csv_rows(text: str, flow: Dataflow) -> Iterator[Row | RowProblem]:
    """The rows of SDMX-CSV 2.0 ``text`` (header problems raise :class:`UnreadableLoad`)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise UnreadableLoad([RowProblem(1, None, None, f"not CSV: {error}")]) from None
    found = csv_header(header, flow)
    columns, action_column = found.columns, found.action_column
    line = 2
    try:
        for record in reader:
            if not record:
                line = reader.line_num + 1
                continue
            if len(record) != found.fields:
                yield RowProblem(line, None, None, f"the row has {len(record)} fields, the header {found.fields}")
            elif record[0] != "dataflow" or record[1] != flow.structure_id:
                yield RowProblem(line, 2, None, f"the row is not of dataflow {flow.structure_id}")
            elif action_column is not None and record[action_column] not in LOADABLE_ACTIONS:
                yield RowProblem(line, action_column + 1, "ACTION", _action_problem(record[action_column]))
            else:
                yield Row({name: Cell(record[p], p + 1) for p, name in columns.items()}, line=line)
            line = reader.line_num + 1
    except csv.Error as error:
        yield RowProblem(line, None, None, f"not CSV: {error}")


def _action_problem(action: str) -> str:
    if action in {"D", "Delete"}:
        return "Delete is not loaded: each load is a vintage, and revisions never remove what was published"
    return f"{action!r} is not an action (I, A or R)"


def json_rows(message: Any, flow: Dataflow) -> Iterator[Row | RowProblem]:
    """The observations of an SDMX-JSON 2.0 data message (problems with the message raise :class:`UnreadableLoad`)."""
    try:
        found = sdmx.observations(message)
        structures = message["data"]["structures"]
        datasets = message["data"].get("dataSets", [])
    except (sdmx.UnmaskableSdmx, KeyError, TypeError) as error:
        raise UnreadableLoad([RowProblem(None, None, None, f"not an SDMX-JSON 2.0 data message: {error}")]) from None
    loadable = _loadable(flow)
    problems = []
    for number, structure in enumerate(structures):
        links = structure.get("links", []) if isinstance(structure, dict) else []
        urns = {link.get("urn") for link in links if isinstance(link, dict)}
        if flow.urn not in urns:
            problems.append(RowProblem(None, None, None, f"structure {number} does not link dataflow {flow.urn}"))
    for number, dataset in enumerate(datasets):
        if dataset.get("action", "Information") not in LOADABLE_ACTIONS:
            problems.append(
                RowProblem(None, None, "action", _action_problem(dataset["action"]), f"/data/dataSets/{number}")
            )
    if problems:
        raise UnreadableLoad(problems)
    for observation in found:
        values = {**observation.dimensions, **observation.measures, **observation.attributes}
        unknown = sorted(set(values) - loadable)
        if unknown:
            yield RowProblem(
                None, None, unknown[0], f"{unknown[0]} is not a component {flow.id} loads may set", observation.pointer
            )
            continue
        cells = {name: Cell("" if value is None else _text(value)) for name, value in values.items()}
        yield Row(cells, pointer=observation.pointer)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)
