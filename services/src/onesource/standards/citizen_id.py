"""Citizen ID numbers (公民身份号码, GB 11643-1999).

18 characters: a GB/T 2260 region (6 digits), the birth date (YYYYMMDD), a 3-digit sequence (odd for men, even for
women) and a check character. Each check returns the reason a value is wrong, or ``None`` when it is right, so that
callers can name the field in their own error shape (a 422 problem, a row of an import report).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from operator import mul
from typing import Final, TypeAlias

from onesource.standards.divisions import plausible_division_problem

#: GB 11643-1999 §5.2: weights of positions 1–17 (2^(18-i) mod 11) and the check characters indexed by S mod 11.
WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS: Final = "10X98765432"

_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")

#: The weighted sum of 17 ASCII "0" characters' code points (48 each): what the byte values add beyond the digits.
_ZEROS = ord("0") * sum(WEIGHTS)


def check_character(first17: str) -> str:
    """The GB 11643-1999 check character of the first 17 digits."""
    if first17.isascii() and first17.isdigit():  # the common case, without an int() per digit
        return CHECK_CHARACTERS[(sum(map(mul, first17.encode(), WEIGHTS)) - _ZEROS) % 11]
    return CHECK_CHARACTERS[sum(map(mul, map(int, first17), WEIGHTS)) % 11]


def embedded_birth_date(id_number: str) -> date | None:
    """The birth date in positions 7–14, or ``None`` when it is not a calendar date."""
    digits = id_number[6:14]
    try:
        if digits.isascii() and digits.isdigit():  # YYYYMMDD, read in C rather than by three int() calls
            return date.fromisoformat(digits)
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def sex_of(id_number: str) -> str:
    """The GB/T 2261.1 sex code the sequence part implies: odd is male (1), even is female (2) (GB 11643 §4.3)."""
    return "1" if int(id_number[16]) % 2 else "2"


#: Why a region part is refused, or ``None``; the default is the shape check without the division list.
RegionRule: TypeAlias = Callable[[str], str | None]


def id_number_problem(
    id_number: str, *, today: date | None = None, region_problem: RegionRule = plausible_division_problem
) -> str | None:
    """Why ``id_number`` is not a valid citizen ID number, or ``None`` (expects upper-case ``X``)."""
    return checked_id_number(id_number, today=today, region_problem=region_problem)[0]


def checked_id_number(
    id_number: str, *, today: date | None = None, region_problem: RegionRule = plausible_division_problem
) -> tuple[str | None, date | None]:
    """:func:`id_number_problem` and, for a valid number, the birth date it holds (its check needs that date)."""
    if len(id_number) != 18:
        return "must be 18 characters (GB 11643-1999)", None
    if not _ID_SHAPE.match(id_number):
        return "must be 17 digits and a check character 0-9 or X", None
    region = region_problem(id_number[:6])
    if region is not None:
        return f"region part: {region}", None
    born = embedded_birth_date(id_number)
    if born is None:
        return f"birth date part {id_number[6:14]} is not a calendar date", None
    if born.year < 1850 or born > (today or date.today()):
        return f"birth date part {born.isoformat()} is not plausible", None
    expected = check_character(id_number[:17])
    if id_number[17] != expected:
        return f"check character is {id_number[17]}, GB 11643-1999 gives {expected}", None
    return None, born
