"""The registry's rules for a parcel record, as pure functions over field values.

The geometry's are ``geometry.area_problems`` and PostGIS's validity (``spatial.inspect``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from onesource.geo.rules import FieldProblem, county_problem, text_problems
from onesource.standards.land_use import land_use_problem

#: 宗地特征码, first letter: the ownership of the land (GB/T 37346-2019 不动产单元设定与代码编制规则).
OWNERSHIP: Final = {"G": "国家土地所有权", "J": "集体土地所有权", "Z": "土地所有权争议"}
#: 宗地特征码, second letter: the kind of parcel (A 集体土地所有权宗地, B/S/X 建设用地使用权宗地 地表/地上/地下,
#: C 宅基地使用权宗地, D 土地承包经营权宗地 (耕地), E 林地使用权宗地, F 草原使用权宗地, G 无居民海岛, H 海域,
#: W 使用权未确定或有争议的土地, Y 其他土地使用权宗地).
KINDS: Final = frozenset("ABSXCDEFGHWY")


def parcel_code_problem(code: str, today: date) -> FieldProblem | None:
    """Why ``code`` is not a 宗地代码 of a county that exists today, or ``None``."""
    if len(code) != 19 or not code[:12].isdigit() or not code[14:].isdigit():
        return FieldProblem("parcel_code", "must be 19 characters: 12 digits, 2 letters, 5 digits (GB/T 37346-2019)")
    if code[12] not in OWNERSHIP:
        return FieldProblem("parcel_code", f"ownership letter {code[12]!r} must be G, J or Z (GB/T 37346-2019)")
    if code[13] not in KINDS:
        return FieldProblem("parcel_code", f"parcel kind letter {code[13]!r} is not one of GB/T 37346-2019's")
    found = county_problem("parcel_code", code[:6], today)
    if found is not None:
        return FieldProblem("parcel_code", f"its county part: {found.reason}")
    return None


def record_problems(record: Mapping[str, Any], today: date) -> list[FieldProblem]:
    """Every rule the parcel's fields (not its geometry) break; empty when they are valid."""
    problems = text_problems(dict(record))
    if "parcel_code" in record and (problem := parcel_code_problem(record["parcel_code"], today)) is not None:
        problems.append(problem)
    if "land_use" in record and (reason := land_use_problem(record["land_use"])) is not None:
        problems.append(FieldProblem("land_use", reason))
    return problems
