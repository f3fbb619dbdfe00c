"""Industrial classification for national economic activities (国民经济行业分类, GB/T 4754-2017).

Four levels: a section letter A–T (门类), a 2-digit division (大类), a 3-digit group (中类) and a 4-digit class
(小类), e.g. C › 39 › 392 › 3921. Division numbers run across sections, so the section of any code follows from
its first two digits (:data:`SECTION_DIVISIONS`). ``data/industries.csv`` holds every entry of the 2017 table with
its name and parent; the 2019 amendment (第1号修改单) is not applied (``data/SOURCES.md``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Final

from onesource.standards._files import read_table

#: The divisions of each section, first and last inclusive (GB/T 4754-2017 table 1).
SECTION_DIVISIONS: Final = (
    ("A", 1, 5),
    ("B", 6, 12),
    ("C", 13, 43),
    ("D", 44, 46),
    ("E", 47, 50),
    ("F", 51, 52),
    ("G", 53, 60),
    ("H", 61, 62),
    ("I", 63, 65),
    ("J", 66, 69),
    ("K", 70, 70),
    ("L", 71, 72),
    ("M", 73, 75),
    ("N", 76, 79),
    ("O", 80, 82),
    ("P", 83, 83),
    ("Q", 84, 85),
    ("R", 86, 90),
    ("S", 91, 96),
    ("T", 97, 97),
)

_CLASS_SHAPE = re.compile(r"[0-9]{4}")


class IndustryLevel(StrEnum):
    """The level of an entry, read from the shape of its code."""

    SECTION = "section"
    DIVISION = "division"
    GROUP = "group"
    CLASS = "class"


_LEVELS: Final = {1: IndustryLevel.SECTION, 2: IndustryLevel.DIVISION, 3: IndustryLevel.GROUP, 4: IndustryLevel.CLASS}


@dataclass(frozen=True, slots=True)
class Industry:
    """One entry of the classification."""

    code: str
    name: str
    level: IndustryLevel
    #: The entry one level up (a division's section letter); ``None`` for a section.
    parent: str | None


@cache
def industries() -> Mapping[str, Industry]:
    """Every entry of GB/T 4754-2017 (sections, divisions, groups, classes), by code, in the table's order."""
    return {
        row["code"]: Industry(row["code"], row["name"], _LEVELS[len(row["code"])], row["parent"] or None)
        for row in read_table("industries.csv")
    }


def industry(code: str) -> Industry | None:
    """The entry ``code`` names (a section letter or a 2-, 3- or 4-digit code), or ``None``."""
    return industries().get(code)


def industry_class(code: str) -> Industry | None:
    """The class (4 digits) ``code`` names, or ``None`` when it is not a class of GB/T 4754-2017."""
    found = industries().get(code)
    return found if found is not None and found.level is IndustryLevel.CLASS else None


def section_of(code: str) -> str | None:
    """The section letter of a division, group or class code, from its first two digits; ``None`` if none has it."""
    if len(code) < 2 or not code[:2].isascii() or not code[:2].isdigit():
        return None
    division = int(code[:2])
    return next((section for section, first, last in SECTION_DIVISIONS if first <= division <= last), None)


def industry_class_problem(code: str) -> str | None:
    """Why ``code`` is not a GB/T 4754-2017 class (小类), or ``None``."""
    if not _CLASS_SHAPE.fullmatch(code):
        return "must be 4 digits (a GB/T 4754-2017 class)"
    if industry_class(code) is None:
        return f"{code} is not a class of GB/T 4754-2017"
    return None
