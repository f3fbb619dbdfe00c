"""Land-use classification (土地利用现状分类, GB/T 21010-2017).

Two levels: 12 first-level classes with 2-digit codes (``01`` 耕地) and 73 second-level classes with 4-digit
codes whose first two digits are their first-level class (``0101`` 水田). ``data/land_use.csv`` holds both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from onesource.standards._files import read_table


@dataclass(frozen=True, slots=True)
class LandUseClass:
    """One class of GB/T 21010-2017."""

    code: str
    name: str
    #: 1 for a first-level class (一级类), 2 for a second-level class (二级类).
    level: int
    #: The first-level class of a second-level class; ``None`` for a first-level class.
    parent: str | None


@cache
def land_use_classes() -> Mapping[str, LandUseClass]:
    """Every class of GB/T 21010-2017 (both levels), by code, in the standard's order."""
    return {
        row["code"]: LandUseClass(
            row["code"], row["name"], len(row["code"]) // 2, row["code"][:2] if len(row["code"]) == 4 else None
        )
        for row in read_table("land_use.csv")
    }


def land_use_class(code: str) -> LandUseClass | None:
    """The class ``code`` names (2 or 4 digits), or ``None``."""
    return land_use_classes().get(code)


def land_use_problem(code: str, *, second_level: bool = True) -> str | None:
    """Why ``code`` is not a GB/T 21010-2017 class (by default second-level, as a parcel's use is), or ``None``."""
    found = land_use_classes().get(code)
    if found is None:
        return f"{code!r} is not a GB/T 21010-2017 land-use code"
    if second_level and found.level != 2:
        return f"{code} ({found.name}) is a first-level class; give its second-level class (4 digits)"
    return None
