"""GB 32100-2015 unified social credit code (统一社会信用代码): structure and check character."""

from __future__ import annotations

import re

#: The 31 code characters, valued 0–30 (GB 32100-2015 §4.2; I O Z S V are left out).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Weights of positions 1–17 (3^(i-1) mod 31, GB 32100-2015 §4.4).
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUES = {char: value for value, char in enumerate(ALPHABET)}
_REGION = re.compile(r"^[0-9]{6}$")


def check_character(body: str) -> str:
    """The check character (position 18) for the first 17 characters."""
    if len(body) != 17 or any(char not in _VALUES for char in body):
        raise ValueError("the first 17 characters must come from the USCC alphabet")
    total = sum(_VALUES[char] * weight for char, weight in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid USCC, or ``None`` when it is."""
    if len(code) != 18:
        return f"must be 18 characters, got {len(code)}"
    bad = sorted({char for char in code if char not in _VALUES})
    if bad:
        return f"contains characters outside {ALPHABET}: {''.join(bad)}"
    if not _REGION.match(code[2:8]):
        return "positions 3–8 must be a 6-digit administrative division code"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r}, expected {expected!r}"
    return None


def is_valid_uscc(code: str) -> bool:
    """Whether ``code`` is a well-formed GB 32100-2015 code with a correct check character."""
    return uscc_problem(code) is None
