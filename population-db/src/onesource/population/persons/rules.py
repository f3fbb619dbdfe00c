"""The registry's rules for a person record, as pure functions over field values.

The API and the bulk import both call :func:`record_problems`, so a record is accepted or refused for the same
reasons whichever way it arrives. Each problem names the field it is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from onesource.standards.citizen_id import checked_id_number, sex_of
from onesource.standards.divisions import plausible_division_problem
from onesource.standards.person_codes import EDUCATION, ETHNICITY, MARITAL_STATUS, RELATIONSHIP, SEX


@dataclass(frozen=True)
class FieldProblem:
    """Why one field of a record is refused."""

    field: str
    reason: str


_CODE_LISTS: tuple[tuple[str, Mapping[str, str], str], ...] = (
    ("sex", SEX, "GB/T 2261.1-2003"),
    ("ethnicity", ETHNICITY, "GB/T 3304-1991"),
    ("marital_status", MARITAL_STATUS, "GB/T 2261.2-2003"),
    ("education", EDUCATION, "GB/T 4658-2006"),
    ("relationship_to_head", RELATIONSHIP, "GB/T 4761-2008"),
)


def record_problems(
    record: Mapping[str, Any], *, today: date | None = None, nul_free: bool = False
) -> list[FieldProblem]:
    """Every rule ``record`` breaks (empty when it is valid); ``record`` holds typed values (dates as dates).

    ``nul_free``: the caller has made sure that no text of the record holds U+0000 (a bulk import looks at a whole
    block of the file at once, which costs a fraction of looking at every field of every row).
    """
    today = today or date.today()
    problems: list[FieldProblem] = []
    id_number: str = record["id_number"]
    id_problem, embedded = checked_id_number(id_number, today=today)
    if id_problem is not None:
        problems.append(FieldProblem("id_number", id_problem))
    for field, codes, standard in _CODE_LISTS:
        value = record.get(field)
        if value is not None and value not in codes:
            problems.append(FieldProblem(field, f"{value!r} is not a {standard} code"))
    for field in ("birthplace_code", "household_region_code"):
        value = record.get(field)
        if value is not None and (reason := plausible_division_problem(value)) is not None:
            problems.append(FieldProblem(field, reason))
    birth_date: date = record["birth_date"]
    if id_problem is None:
        if birth_date != embedded:
            problems.append(FieldProblem("birth_date", f"must equal the date in the ID number, {embedded}"))
        expected_sex = sex_of(id_number)
        if record["sex"] in SEX and record["sex"] != expected_sex:
            problems.append(
                FieldProblem(
                    "sex",
                    f"the ID number's sequence is {'odd' if expected_sex == '1' else 'even'}, "
                    f"so sex must be {expected_sex} ({SEX[expected_sex]})",
                )
            )
    elif birth_date > today:
        problems.append(FieldProblem("birth_date", "is in the future"))
    for field, value in () if nul_free else record.items():
        # PostgreSQL text cannot hold U+0000; refused here it is a clear 422, not a failed insert.
        if (isinstance(value, str) and "\x00" in value) or (
            isinstance(value, list) and any(isinstance(item, str) and "\x00" in item for item in value)
        ):
            problems.append(FieldProblem(field, "contains a NUL character (U+0000)"))
    death_date: date | None = record.get("death_date")
    if death_date is not None:
        if death_date < birth_date:
            problems.append(FieldProblem("death_date", "is before the date of birth"))
        if death_date > today:
            problems.append(FieldProblem("death_date", "is in the future"))
    return problems
