"""A department's unified social credit code (USCC): the structure and check character of GB 32100-2015.

The gateway checks what every USCC must satisfy to be a well-formed key, with the standard's own alphabet, weights
and check character from :mod:`onesource.standards.uscc`; the rest of the standard (the department and category
table, the organisation code's GB 11714 check, the division) is there too, for the registries that apply it in full.
"""

from __future__ import annotations

from onesource.standards.uscc import ALPHABET, WEIGHTS, check_character, checksum_problem

__all__ = ["ALPHABET", "WEIGHTS", "check_character", "is_valid_uscc", "uscc_problem"]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a well-formed USCC with a correct check character, or ``None`` when it is."""
    return checksum_problem(code)


def is_valid_uscc(code: str) -> bool:
    """Whether ``code`` is a well-formed GB 32100-2015 code with a correct check character."""
    return uscc_problem(code) is None
