"""GB/T 2260 administrative division codes (中华人民共和国行政区划代码), dated.

``data/divisions.csv`` holds every county-or-higher code of the national list with its official name and the
dates between which that name held: one row per code and name, ``valid_from`` inclusive, ``valid_to`` exclusive,
either empty when unbounded. It reproduces every yearly edition of the Ministry of Civil Affairs' list from 1981
to 2024 (each as at 31 December), so a code that was created, renamed or abolished answers by date; the dates of
changes are those of the announcements that made them, where known (``data/SOURCES.md``).

A code is 2 province + 2 prefecture + 2 county digits: ``xx0000`` is a province-level division, ``xxyy00`` a
prefecture-level one, anything else county-level. A division's parent is the nearest code above it that exists on
the same date: counties directly under a province (``429004`` 仙桃市) or under a municipality whose list has no
prefecture level (``110105`` 朝阳区 in the lists since the 市辖区 entries were dropped) have the province as parent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache, lru_cache
from typing import Final

from onesource.standards._files import read_table

#: The first and the last edition the data reproduces (each the list as at that date). Before the first, a code
#: of the first edition answers as valid (its earlier history is not recorded); after the last, the last
#: edition's state is answered.
FIRST_EDITION: Final = date(1981, 12, 31)
LAST_EDITION: Final = date(2024, 12, 31)

#: GB/T 2260 province-level divisions (the first two digits of every division code).
PROVINCES: Final = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
}

_SHAPE = re.compile(r"^\d{6}$")
_CODE = re.compile(r"[0-9]{6}")
#: Special administrative regions and Taiwan have one province-level code and no subdivisions in GB/T 2260;
#: their residents' ID-style numbers (居住证) use it as ``xx0000``.
_UNDIVIDED = frozenset({"71", "81", "82"})


class Level(StrEnum):
    """The level of a division, read from the shape of its code."""

    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"


@dataclass(frozen=True, slots=True)
class Division:
    """One division as it was on the date asked about."""

    code: str
    name: str
    level: Level
    #: The code of the division directly above on that date; ``None`` for a province.
    parent: str | None
    #: First day this name held for this code; ``None``: already so in the first edition.
    valid_from: date | None
    #: First day it no longer held (exclusive); ``None``: still so in the last edition.
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class _Version:
    name: str
    valid_from: date | None
    valid_to: date | None

    def holds_on(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or on < self.valid_to)


@dataclass(frozen=True, slots=True)
class DatedName:
    """One name of one code and the dates it held (a row of the data): what a registry loads to answer by date."""

    code: str
    name: str
    #: First day this name held (inclusive); ``None``: already so in the first edition.
    valid_from: date | None
    #: First day it no longer held (exclusive); ``None``: still so in the last edition.
    valid_to: date | None


def dated_names() -> list[DatedName]:
    """Every name of every code with the dates it held, by code and then by date (the whole data, 1981–2024)."""
    return [
        DatedName(code, version.name, version.valid_from, version.valid_to)
        for code in sorted(_versions())
        for version in _versions()[code]
    ]


def level_of(code: str) -> Level:
    """The level a six-digit code denotes (GB/T 2260 §4: 2 + 2 + 2 digits, zeros for the levels not used)."""
    if code[2:] == "0000":
        return Level.PROVINCE
    if code[4:] == "00":
        return Level.PREFECTURE
    return Level.COUNTY


@cache
def _versions() -> Mapping[str, tuple[_Version, ...]]:
    history: dict[str, list[_Version]] = {}
    for row in read_table("divisions.csv"):
        history.setdefault(row["code"], []).append(
            _Version(
                row["name"],
                date.fromisoformat(row["valid_from"]) if row["valid_from"] else None,
                date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
            )
        )
    return {code: tuple(versions) for code, versions in history.items()}


def _version(code: str, on: date) -> _Version | None:
    return next((version for version in _versions().get(code, ()) if version.holds_on(on)), None)


def _parent(code: str, level: Level, on: date) -> str | None:
    if level is Level.PROVINCE:
        return None
    candidates = (code[:4] + "00", code[:2] + "0000") if level is Level.COUNTY else (code[:2] + "0000",)
    return next((candidate for candidate in candidates if _version(candidate, on) is not None), None)


@lru_cache(maxsize=1 << 16)  # rules ask about a few codes on a few dates, once per field of every record checked
def division(code: str, on: date) -> Division | None:
    """The division ``code`` denoted on ``on``, or ``None`` when it denoted none then."""
    version = _version(code, on)
    if version is None:
        return None
    level = level_of(code)
    return Division(code, version.name, level, _parent(code, level, on), version.valid_from, version.valid_to)


def divisions(on: date, *, parent: str | None = None, level: Level | None = None) -> list[Division]:
    """Every division of ``on`` in code order; only the direct children of ``parent`` and of ``level`` if given."""
    found = []
    for code, versions in _versions().items():
        if level is not None and level_of(code) is not level:
            continue
        if parent is not None and code[:2] != parent[:2]:
            continue
        if any(version.holds_on(on) for version in versions):
            found.append(code)
    answers = (division(code, on) for code in sorted(found))
    return [answer for answer in answers if answer is not None and (parent is None or answer.parent == parent)]


def is_valid_division(code: str, on: date) -> bool:
    """Whether ``code`` was a county-or-higher GB/T 2260 division code on ``on``."""
    return _version(code, on) is not None


def is_listed_division(code: str) -> bool:
    """Whether ``code`` was a GB/T 2260 division code at any time since the first edition."""
    return code in _versions()


def division_problem(code: str, on: date) -> str | None:
    """Why ``code`` was not a GB/T 2260 division code on ``on``, or ``None`` when it was."""
    if not _CODE.fullmatch(code):
        return "must be 6 digits (GB/T 2260)"
    versions = _versions().get(code)
    if not versions:
        return f"{code} is not a GB/T 2260 division code"
    if any(version.holds_on(on) for version in versions):
        return None
    earlier = [version for version in versions if version.valid_to is not None and version.valid_to <= on]
    if earlier:
        last = earlier[-1]
        return f"{code} ({last.name}) was abolished on {last.valid_to}, before {on}"
    return f"{code} ({versions[0].name}) was created on {versions[0].valid_from}, after {on}"


@cache  # a few thousand divisions exist, and bulk imports ask about the same ones again and again
def plausible_division_problem(code: str) -> str | None:
    """Why ``code`` is not a plausible GB/T 2260 county- or prefecture-level division code, or ``None``.

    Plausible: six digits; a province that exists; a prefecture part of 01–70 (cities, prefectures, leagues) or
    90 (county-level divisions directly under the province); any county part (00 names the prefecture itself).
    This is a shape check without the list (population's rule for now); :func:`division_problem` checks the list.
    """
    if not _SHAPE.match(code):
        return "must be 6 digits (GB/T 2260)"
    province, prefecture = code[:2], code[2:4]
    if province not in PROVINCES:
        return f"{province} is not a GB/T 2260 province code"
    if province in _UNDIVIDED:
        return None if code[2:] == "0000" else f"{PROVINCES[province]} has no subdivisions in GB/T 2260"
    if not ("01" <= prefecture <= "70" or prefecture == "90"):
        return f"{prefecture} is not a GB/T 2260 prefecture-level part (01–70 or 90)"
    return None
