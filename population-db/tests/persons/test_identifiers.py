from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onesource.population.persons.rules import record_problems
from onesource.standards.citizen_id import (
    CHECK_CHARACTERS,
    WEIGHTS,
    check_character,
    embedded_birth_date,
    id_number_problem,
    sex_of,
)
from onesource.standards.divisions import PROVINCES
from onesource.standards.divisions import plausible_division_problem as division_problem

GOOD = "11010519491231002X"  # DESIGN.md's example


@pytest.mark.parametrize(
    "number",
    [GOOD, "110101199003074477", "440304200001010025", "31011519851231999" + check_character("31011519851231999")],
)
def test_valid_numbers_pass(number: str) -> None:
    assert id_number_problem(number) is None


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("11010519491231002", "18 characters"),
        ("11010519491231002X1", "18 characters"),
        ("1101051949123100AX", "17 digits"),
        ("110105194912310021", "check character is 1, GB 11643-1999 gives X"),
        ("99010519491231002X", "region part: 99 is not a GB/T 2260 province code"),
        ("110005194912310023", "prefecture-level part"),
        ("810105194912310020", "no subdivisions"),
        ("110105194902300024", "not a calendar date"),
        ("110105184902280022", "not plausible"),
        ("110105209912310025", "not plausible"),
    ],
)
def test_invalid_numbers_name_the_reason(number: str, reason: str) -> None:
    problem = id_number_problem(number, today=date(2026, 1, 1))
    assert problem is not None
    assert reason in problem


def test_division_codes() -> None:
    assert division_problem("110105") is None
    assert division_problem("469001") is None  # 五指山市: county-level city directly under 海南省 (prefecture part 90)
    assert division_problem("429004") is None  # 仙桃市, prefecture part 90
    assert division_problem("440300") is None  # a prefecture-level city itself
    assert division_problem("810000") is None
    assert division_problem("11010") == "must be 6 digits (GB/T 2260)"
    assert division_problem("110005") is not None
    assert division_problem("118005") is not None
    assert division_problem("001010") is not None


regions = st.sampled_from(["110105", "310115", "440304", "650102", "429004", "810000"])
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
sequences = st.integers(min_value=0, max_value=999)


@given(regions, births, sequences)
def test_any_well_formed_number_is_valid_and_its_sex_follows_parity(region: str, born: date, sequence: int) -> None:
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    number = first17 + check_character(first17)
    assert id_number_problem(number, today=date(2026, 1, 1)) is None
    assert sex_of(number) == ("1" if sequence % 2 else "2")


@given(regions, births, sequences, st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_changing_any_one_digit_is_detected(region: str, born: date, sequence: int, position: int, delta: int) -> None:
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    number = first17 + check_character(first17)
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    # GB 11643's weights are all nonzero mod 11, so one changed digit always changes the check character
    assert id_number_problem(changed, today=date(2026, 1, 1)) is not None


@given(st.text(max_size=24))
def test_arbitrary_text_never_crashes_the_check(text: str) -> None:
    problem = id_number_problem(text.upper())
    assert problem is None or isinstance(problem, str)


#: ASCII and Arabic-Indic digits: ``int()`` reads both, so the checks must treat them alike.
DIGITS = "0123456789\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
numbers = st.one_of(
    st.text(alphabet=DIGITS + "X", min_size=18, max_size=18),
    st.builds(
        lambda region, born, rest: f"{region}{born:%Y%m%d}{rest}",
        regions,
        births,
        st.text(DIGITS, min_size=4, max_size=4),
    ),
)


@given(numbers)
def test_check_character_reads_any_digits_as_int_does(number: str) -> None:
    first17 = number[:17]
    try:
        expected = CHECK_CHARACTERS[
            sum(weight * int(digit) for weight, digit in zip(WEIGHTS, first17, strict=True)) % 11
        ]
    except ValueError:
        with pytest.raises(ValueError, match="invalid literal for int"):
            check_character(first17)
    else:
        assert check_character(first17) == expected


@given(numbers)
def test_embedded_birth_date_reads_any_digits_as_int_does(number: str) -> None:
    try:
        expected: date | None = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        expected = None
    assert embedded_birth_date(number) == expected


def _record(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id_number": GOOD,
        "name": "王明",
        "sex": "2",
        "ethnicity": "01",
        "birth_date": date(1949, 12, 31),
        "birthplace_code": "110105",
        "household_region_code": "110101",
        "marital_status": "20",
        "education": "21",
        "relationship_to_head": "02",
        "death_date": None,
    }
    return {**record, **overrides}


def test_a_consistent_record_has_no_problems() -> None:
    assert record_problems(_record()) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"birth_date": date(1949, 12, 30)}, "birth_date"),
        ({"sex": "1"}, "sex"),
        ({"sex": "9"}, "sex"),
        ({"ethnicity": "57"}, "ethnicity"),
        ({"marital_status": "11"}, "marital_status"),
        ({"education": "99"}, "education"),
        ({"relationship_to_head": "98"}, "relationship_to_head"),
        ({"birthplace_code": "990101"}, "birthplace_code"),
        ({"household_region_code": "110001"}, "household_region_code"),
        ({"death_date": date(1949, 12, 1)}, "death_date"),
        ({"death_date": date.today() + timedelta(days=1)}, "death_date"),
        ({"id_number": "110105194912310021"}, "id_number"),
    ],
)
def test_each_rule_names_its_field(overrides: dict[str, object], field: str) -> None:
    assert [problem.field for problem in record_problems(_record(**overrides))] == [field]


def test_province_table_is_the_gbt_2260_one() -> None:
    assert len(PROVINCES) == 34
    assert PROVINCES["44"] == "广东省"
