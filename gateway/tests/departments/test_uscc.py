from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onesource.gateway.departments.uscc import ALPHABET, check_character, is_valid_uscc, uscc_problem


@pytest.mark.parametrize("code", ["91110000600037341L"])
def test_published_example_is_valid(code: str) -> None:
    assert is_valid_uscc(code)


def test_check_character_of_the_example() -> None:
    assert check_character("91110000600037341") == "L"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91110000600037341M", "check character"),
        ("91110000600037341", "18 characters"),
        ("911100006000373410L", "18 characters"),
        ("91110000600O37341L", "outside"),  # O is not in the alphabet
        ("9111000I600037341L", "outside"),
        ("91A10000600037341L", "positions 3–8"),
        ("91110000600037341l", "outside"),  # lower case is not the code's alphabet
        ("", "18 characters"),
    ],
)
def test_invalid_codes_say_why(code: str, reason: str) -> None:
    problem = uscc_problem(code)
    assert problem is not None
    assert reason in problem


bodies = st.builds(
    lambda head, region, tail: head + region + tail,
    st.text(ALPHABET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(ALPHABET, min_size=9, max_size=9),
)


@given(bodies)
def test_computed_check_character_makes_a_valid_code(body: str) -> None:
    assert is_valid_uscc(body + check_character(body))


@given(bodies, st.integers(0, 17), st.integers(1, 30))
def test_changing_any_one_character_is_detected(body: str, position: int, shift: int) -> None:
    code = body + check_character(body)
    changed = ALPHABET[(ALPHABET.index(code[position]) + shift) % 31]
    mutated = code[:position] + changed + code[position + 1 :]
    assert mutated != code
    assert not is_valid_uscc(mutated)
