"""Unified social credit codes (统一社会信用代码, GB 32100-2015) and the organisation codes in them (GB 11714-1997).

18 characters from a 31-character alphabet: the registration department (position 1) and the entity category
(2) from the standard's table, the registering authority's GB/T 2260 division (3–8), the organisation code
(9–17: 8 body characters and a GB 11714 check character) and a check character over the first 17 (18).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Final, TypeAlias

from onesource.standards._files import read_table
from onesource.standards.divisions import is_listed_division

#: The 31 code characters, valued 0–30 (GB 32100-2015 §4.2; I O Z S V are left out).
ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Weights of positions 1–17 (3^(i-1) mod 31, GB 32100-2015 §4.4).
WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: GB 11714-1997 §5: weights of the 8 body characters of an organisation code.
ORGANISATION_CODE_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
#: Positions 3–8 of entities registered by a central (national) authority: the country, not a division of it.
CENTRAL_REGION: Final = "100000"

_VALUES = {char: value for value, char in enumerate(ALPHABET)}
_IN_ALPHABET = frozenset(ALPHABET)
#: GB 11714-1997 §4: an organisation code's body is digits and capital letters, the letters valued A=10 … Z=35.
_BODY_VALUES = {char: int(char, 36) for char in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_IN_BODY = frozenset(_BODY_VALUES)


def _weighted_sum(chars: str, values: Mapping[str, int], weights: tuple[int, ...]) -> int:
    """Σ value × weight over ``chars`` (every one of them in ``values``).

    ``map`` over the built-ins rather than a generator: a bulk import checks every code it reads, and this is most
    of a code's check.
    """
    return sum(map(operator.mul, map(values.__getitem__, chars), weights))


@dataclass(frozen=True, slots=True)
class RegistrationDepartment:
    """A registration department (登记管理部门) of GB 32100's table and the entity categories it registers."""

    code: str
    name: str
    #: Category code (position 2) → name (机构类别).
    categories: Mapping[str, str]


def check_character(first17: str) -> str:
    """The GB 32100 check character (position 18) for the first 17 characters."""
    if len(first17) != 17 or not _IN_ALPHABET.issuperset(first17):
        raise ValueError("the first 17 characters must come from the USCC alphabet")
    return ALPHABET[-_weighted_sum(first17, _VALUES, WEIGHTS) % 31]  # (31 − Σ mod 31) mod 31


def checksum_problem(code: str) -> str | None:
    """Why ``code`` is not a well-formed USCC with a correct check character, or ``None``.

    Only the structure and position 18: it does not look the department, category, organisation code or division
    up (see :func:`uscc_problem`).
    """
    if len(code) != 18:
        return f"must be 18 characters, got {len(code)}"
    if not _IN_ALPHABET.issuperset(code):
        return f"contains characters outside {ALPHABET}: {''.join(sorted(set(code) - _IN_ALPHABET))}"
    if not code[2:8].isdigit():  # ASCII digits: every character is of the alphabet
        return "positions 3–8 must be a 6-digit administrative division code"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r}, expected {expected!r}"
    return None


def organisation_code_check_character(body: str) -> str:
    """The GB 11714-1997 check character of an organisation code's 8 body characters.

    C = 11 − (Σ value × weight mod 11), written ``X`` for 10 and ``0`` for 11.
    """
    if len(body) != 8 or not _IN_BODY.issuperset(body):
        raise ValueError("an organisation code body is 8 digits or capital letters")
    check = 11 - _weighted_sum(body, _BODY_VALUES, ORGANISATION_CODE_WEIGHTS) % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def organisation_code_problem(code: str) -> str | None:
    """Why ``code`` is not a GB 11714-1997 organisation code (8 body characters and a check character), or ``None``."""
    if len(code) != 9:
        return f"must be 9 characters, got {len(code)}"
    if not _IN_BODY.issuperset(code[:8]):
        return "its first 8 characters must be digits or capital letters (GB 11714-1997)"
    expected = organisation_code_check_character(code[:8])
    if code[8] != expected:
        return f"check character is {code[8]!r}, GB 11714-1997 gives {expected!r}"
    return None


@cache
def registration_departments() -> Mapping[str, RegistrationDepartment]:
    """GB 32100's registration departments (position 1) with their entity categories (position 2), by code."""
    names: dict[str, str] = {}
    categories: dict[str, dict[str, str]] = {}
    for row in read_table("uscc_registration.csv"):
        names[row["department"]] = row["department_name"]
        categories.setdefault(row["department"], {})[row["category"]] = row["category_name"]
    return {code: RegistrationDepartment(code, names[code], categories[code]) for code in names}


def registration_problem(code: str) -> str | None:
    """Why positions 1–2 of ``code`` are not a registration department and one of its categories, or ``None``."""
    departments = registration_departments()
    department = departments.get(code[:1])
    if department is None:
        return f"position 1 ({code[:1]!r}) is not a GB 32100 registration department ({' '.join(departments)})"
    if code[1:2] not in department.categories:
        return (
            f"position 2 ({code[1:2]!r}) is not an entity category of {department.code} {department.name} "
            f"({' '.join(department.categories)})"
        )
    return None


#: Why positions 3–8 are refused, or ``None``.
RegionRule: TypeAlias = Callable[[str], str | None]


def listed_region_problem(region: str) -> str | None:
    """Positions 3–8 must be a GB/T 2260 code of some edition (codes are for life; divisions are not) or 100000."""
    if region == CENTRAL_REGION or is_listed_division(region):
        return None
    return f"positions 3–8 ({region}) are not a GB/T 2260 division code"


def uscc_problem(code: str, *, region_problem: RegionRule = listed_region_problem) -> str | None:
    """Why ``code`` is not a valid USCC by every rule of GB 32100 and GB 11714, or ``None``.

    The check character, the department and category table, the organisation code's own check character and, by
    ``region_problem``, the registering authority's division.
    """
    return (
        checksum_problem(code)
        or registration_problem(code)
        or _in_positions_9_to_17(organisation_code_problem(code[8:17]))
        or region_problem(code[2:8])
    )


def _in_positions_9_to_17(problem: str | None) -> str | None:
    return None if problem is None else f"organisation code (positions 9–17): {problem}"


def is_valid_uscc(code: str) -> bool:
    """Whether ``code`` passes :func:`uscc_problem` with its default region rule."""
    return uscc_problem(code) is None
