"""Rules every geo record shares, as pure functions returning the problems they find (empty when none)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from onesource.standards.divisions import Level, division_problem, level_of


@dataclass(frozen=True)
class FieldProblem:
    """Why one field of a record is refused."""

    field: str
    reason: str


def county_problem(field: str, code: str, on: date) -> FieldProblem | None:
    """Why ``code`` is not a county-level GB/T 2260 division on ``on`` (the data the registry serves), or ``None``."""
    if (reason := division_problem(code, on)) is not None:
        return FieldProblem(field, reason)
    if level_of(code) is not Level.COUNTY:
        return FieldProblem(field, f"{code} is a {level_of(code)}-level division; records sit in a county")
    return None


def text_problems(values: dict[str, object]) -> list[FieldProblem]:
    """Texts PostgreSQL cannot hold (U+0000), refused as a clear 422 rather than a failed insert."""
    return [
        FieldProblem(name, "contains a NUL character (U+0000)")
        for name, value in values.items()
        if isinstance(value, str) and "\x00" in value
    ]
