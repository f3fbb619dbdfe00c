"""Checking an import file's rows, in worker processes: from a block of the file to ``COPY`` rows and refusals.

The CPU work of a bulk import — reading the rows, applying every rule of the registry, writing each person's row —
happens here (:func:`check`), in the processes of the registry core's ``CheckerPool``
(:mod:`onesource.registry.imports.checking`), several blocks at a time and while the request's process loads the
blocks already checked. What crosses between the processes is cheap to pickle: the block's bytes one way, strings
the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from onesource.kit.collector import COLLECTOR_PAUSE
from onesource.kit.db import COPY_NULL, copy_text
from onesource.population.imports.schemas import ImportRow, plain_csv_reader, typed_row
from onesource.population.persons.rules import record_problems
from onesource.registry.imports import parsing
from onesource.registry.imports.checking import CheckerPool, text_array

__all__ = ["Checked", "CheckerPool", "Job", "check"]


@dataclass(frozen=True)
class Job:
    """One block of one import to check."""

    block: parsing.Block
    import_id: str
    at: datetime
    """The import's transaction time: the day its rules judge dates by."""


@dataclass
class Checked:
    """A checked block: its good rows ready to load, in file order, and its refused rows."""

    rows_read: int = 0
    id_numbers: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    """The line each good row starts on."""
    persons: list[str] = field(default_factory=list)
    """``person`` rows as ``COPY`` text (``repository.IMPORTED_PERSON_COLUMNS``)."""
    errors: list[tuple[int, str | None, str | None, str]] = field(default_factory=list)
    """Refusals as (line, ID number, field, reason), in the order the report lists them."""

    def refuse(self, line: int, id_number: Any, field_name: str | None, reason: str) -> None:
        """Record why the row at ``line`` is refused."""
        self.errors.append((line, str(id_number)[:32] if id_number is not None else None, field_name, reason))

    def drop(self, id_numbers: set[str]) -> list[tuple[str, int]]:
        """Take the good rows of ``id_numbers`` out (found registered at load); returns their numbers and lines."""
        kept = [index for index, number in enumerate(self.id_numbers) if number not in id_numbers]
        dropped = [(number, self.lines[index]) for index, number in enumerate(self.id_numbers) if number in id_numbers]
        self.id_numbers = [self.id_numbers[index] for index in kept]
        self.lines = [self.lines[index] for index in kept]
        self.persons = [self.persons[index] for index in kept]
        return dropped


def check(job: Job) -> Checked:
    """Read and check the rows of ``job``'s block (runs in a worker process)."""
    block = job.block
    # Checking makes no reference cycles, only thousands of short-lived objects, which would set off the cyclic
    # collector a few times per block for nothing; what a failure leaves behind is collected after the block.
    with COLLECTOR_PAUSE:
        rows = parsing.block_rows(block, _plain_reader)
        return _checker(job.import_id, job.at).check(rows, nul_free=parsing.nul_free(block))


@lru_cache(maxsize=8)
def _plain_reader(header: Sequence[str]) -> Callable[[str], dict[str, Any] | None]:
    # one compiled expression per header, not one per block
    return plain_csv_reader(header)


@lru_cache(maxsize=4)
def _checker(import_id: str, at: datetime) -> _Checker:
    return _Checker(import_id, at)


class _Checker:
    """Checks rows of one import by the registry's rules and writes the good ones as ``COPY`` rows."""

    def __init__(self, import_id: str, at: datetime) -> None:
        self.import_id = import_id
        self.today = at.date()

    def check(self, rows: list[parsing.RawRow], *, nul_free: bool) -> Checked:
        checked = Checked(rows_read=len(rows))
        seen: dict[str, int] = {}
        for raw in rows:
            typed = raw.typed
            if typed is None:
                values = raw.values
                if values is None:
                    checked.refuse(raw.line, None, None, raw.unreadable or "unreadable row")
                    continue
                # Well-formed rows skip the model (several times slower); it reads the others and words their errors.
                typed = typed_row(values)
                if typed is None:
                    typed = _validated(raw, values, checked)
                    if typed is None:
                        continue
            typed["deceased"] = typed["death_date"] is not None
            broken = record_problems(typed, today=self.today, nul_free=nul_free)
            id_number: str = typed["id_number"]
            if broken:
                for rule in broken:
                    checked.refuse(raw.line, id_number, rule.field, rule.reason)
                continue
            earlier = seen.get(id_number)
            if earlier is not None:
                checked.refuse(raw.line, id_number, "id_number", f"duplicate of line {earlier}")
                continue
            seen[id_number] = raw.line
            checked.id_numbers.append(id_number)
            checked.lines.append(raw.line)
            checked.persons.append(_person_row(typed, self.import_id))
        return checked


def _validated(raw: parsing.RawRow, values: dict[str, Any], checked: Checked) -> dict[str, Any] | None:
    """The row's typed fields by the API's own model, or ``None`` with its problems refused."""
    try:
        return dict(ImportRow.model_validate(values).__dict__)  # model_dump would copy them slower
    except ValidationError as error:
        id_number = values.get("id_number")
        for problem in error.errors(include_url=False):
            location = problem["loc"]
            checked.refuse(raw.line, id_number, str(location[0]) if location else None, problem["msg"])
        return None


def _code(value: str | None) -> str:
    return COPY_NULL if value is None else value


def _person_row(values: dict[str, Any], import_id: str) -> str:
    """The ``person`` row of a checked row as ``COPY`` text, in ``repository.IMPORTED_PERSON_COLUMNS`` order.

    Only the free-text fields need escaping: every other field passed the registry's rules, which admit only ASCII
    digits, ``X``, ``-`` and ASCII letters there.
    """
    death_date = values["death_date"]
    address = values["household_address"]
    return (
        f"{values['id_number']}\t{copy_text(values['name'])}\t{text_array(values['former_names'])}\t"
        f"{values['sex']}\t{values['ethnicity']}\t{values['birth_date'].isoformat()}\t"
        f"{values['birthplace_code']}\t{values['household_region_code']}\t"
        f"{COPY_NULL if address is None else copy_text(address)}\t{_code(values['marital_status'])}\t"
        f"{_code(values['education'])}\t{_code(values['household_id'])}\t{_code(values['relationship_to_head'])}\t"
        f"{'t' if values['deceased'] else 'f'}\t{COPY_NULL if death_date is None else death_date.isoformat()}\t"
        f"{import_id}\n"
    )
