"""The registry's rules for an address record, as pure functions over field values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from onesource.geo.rules import FieldProblem, county_problem, text_problems
from onesource.standards.divisions import division

#: GB/T 23705-2009: a level below another needs it (a unit is in a building, a building at a door number); a door
#: number is on a road, or in a community or village whose doors are numbered without roads.
_NEEDS = (
    ("room", ("unit", "building")),
    ("unit", ("building",)),
    ("building", ("door_number",)),
    ("door_number", ("road", "community")),
)


def address_code_problem(code: str, today: date) -> FieldProblem | None:
    """Why ``code`` is not an address code in a county that exists today, or ``None``."""
    if len(code) != 18 or not code.isdigit():
        return FieldProblem("address_code", "must be 18 digits: 12 of the community's division code, 6 of sequence")
    found = county_problem("address_code", code[:6], today)
    if found is not None:
        return FieldProblem("address_code", f"its county part: {found.reason}")
    if code[6:9] == "000":
        return FieldProblem("address_code", "its town part (digits 7–9, GB/T 10114) must not be 000")
    return None


def level_problems(levels: Mapping[str, Any]) -> list[FieldProblem]:
    """Levels given without the level they belong to (GB/T 23705-2009)."""
    return [
        FieldProblem(level, f"needs {' or '.join(above)}")
        for level, above in _NEEDS
        if levels.get(level) is not None and all(levels.get(name) is None for name in above)
    ]


def field_problems(values: Mapping[str, Any], today: date) -> list[FieldProblem]:
    """The rules each given field breaks on its own."""
    problems = text_problems(dict(values))
    if "address_code" in values and (problem := address_code_problem(values["address_code"], today)) is not None:
        problems.append(problem)
    return problems


def record_problems(record: Mapping[str, Any], today: date) -> list[FieldProblem]:
    """Every rule a whole address's fields (not its point) break; empty when they are valid."""
    return field_problems(record, today) + level_problems(record)


def full_address(division_code: str, levels: Mapping[str, Any], today: date) -> str:
    """The whole address in words: province, prefecture and county names as they are today, then the levels."""
    names: list[str] = []
    code: str | None = division_code
    while code is not None and (found := division(code, today)) is not None:
        names.insert(0, found.name)
        code = found.parent
    return "".join(names) + "".join(str(levels[name]) for name in _LEVELS if levels.get(name))


_LEVELS = ("town", "community", "road", "door_number", "building", "unit", "room")
