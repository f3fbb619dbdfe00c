from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onesource.standards.uscc import (
    ALPHABET,
    CENTRAL_REGION,
    check_character,
    checksum_problem,
    organisation_code_check_character,
    organisation_code_problem,
    registration_departments,
    registration_problem,
    uscc_problem,
)

#: Published codes of real entities (DESIGN.md and issue 15); every rule of the standard holds for them.
PUBLISHED = ["91110000600037341L", "91310115342050446K", "91410103MA9EYP5H0E"]


def oracle_uscc_check(first17: str) -> str:
    """The character c that makes Σ value·3^(i-1) + c ≡ 0 (mod 31), found by trying all 31."""
    total = sum(ALPHABET.index(char) * pow(3, index, 31) for index, char in enumerate(first17))
    return next(char for value, char in enumerate(ALPHABET) if (total + value) % 31 == 0)


def oracle_organisation_check(body: str) -> str:
    """The c in 1..11 with Σ value·weight + c ≡ 0 (mod 11), found by trying them; 10 is X and 11 is 0."""
    values = ["0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(char) for char in body]  # A=10 … Z=35
    total = sum(value * weight for value, weight in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = next(candidate for candidate in range(1, 12) if (total + candidate) % 11 == 0)
    return {10: "X", 11: "0"}.get(check, str(check))


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_pass_every_rule(code: str) -> None:
    assert uscc_problem(code) is None
    assert check_character(code[:17]) == oracle_uscc_check(code[:17]) == code[17]
    assert organisation_code_check_character(code[8:16]) == oracle_organisation_check(code[8:16]) == code[16]


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("60003734", "1"),  # 91110000600037341L
        ("34205044", "6"),  # 91310115342050446K
        ("MA9EYP5H", "0"),  # 91410103MA9EYP5H0E: letters count M=22, A=10, E=14, Y=34, P=25, H=17
        ("00000000", "0"),  # S = 0: C = 11, written 0
        ("00000010", "7"),  # S = 1·4
        ("00000006", "X"),  # S = 6·2 = 12 ≡ 1: C = 10, written X
        ("0000000B", "0"),  # S = 11·2 = 22 ≡ 0
        ("A0000000", "3"),  # S = 10·3 = 30 ≡ 8
    ],
)
def test_organisation_code_vectors(body: str, check: str) -> None:
    assert organisation_code_check_character(body) == oracle_organisation_check(body) == check
    assert organisation_code_problem(body + check) is None


def test_organisation_code_problems() -> None:
    assert organisation_code_problem("MA9EYP5H1") == "check character is '1', GB 11714-1997 gives '0'"
    assert organisation_code_problem("MA9EYP5H") == "must be 9 characters, got 8"
    assert (
        organisation_code_problem("ma9eyp5h0")
        == "its first 8 characters must be digits or capital letters (GB 11714-1997)"
    )


def test_registration_table_is_the_standards() -> None:
    departments = registration_departments()
    assert list(departments) == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "N", "Y"]
    assert {code: "".join(department.categories) for code, department in departments.items()} == {
        "1": "1239",
        "2": "19",
        "3": "123459",
        "4": "19",
        "5": "1239",
        "6": "129",
        "7": "129",
        "8": "19",
        "9": "123",
        "A": "19",
        "N": "1239",
        "Y": "1",
    }
    assert departments["9"].name == "工商"
    assert departments["9"].categories["3"] == "农民专业合作社"
    assert departments["A"].name == "中央军委改革和编制办公室"
    assert departments["N"].categories["2"] == "村级集体经济组织"
    assert departments["3"].categories["4"] == "司法鉴定机构"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91110000600037341M", "check character is 'M', expected 'L'"),
        ("9111000060003734", "must be 18 characters"),
        ("91110000600O37341L", "outside"),
        ("91A10000600037341L", "positions 3–8"),
    ],
)
def test_checksum_problems(code: str, reason: str) -> None:
    problem = checksum_problem(code)
    assert problem is not None
    assert reason in problem


def _with_check(first17: str) -> str:
    return first17 + oracle_uscc_check(first17)


@pytest.mark.parametrize(
    ("first17", "reason"),
    [
        ("B1110000600037341", "position 1 ('B') is not a GB 32100 registration department"),
        ("94110000600037341", "position 2 ('4') is not an entity category of 9 工商 (1 2 3)"),
        ("Y2110000600037341", "position 2 ('2') is not an entity category of Y 其他 (1)"),
        ("91110000600037342", "organisation code (positions 9–17): check character is '2', GB 11714-1997 gives '1'"),
        ("91119900600037341", "positions 3–8 (119900) are not a GB/T 2260 division code"),
    ],
)
def test_each_rule_says_why(first17: str, reason: str) -> None:
    problem = uscc_problem(_with_check(first17))
    assert problem is not None
    assert reason in problem


def test_central_registrations_and_abolished_divisions_pass() -> None:
    # Positions 3–8 are fixed for life: a code issued in a division since abolished (110103 崇文区, 2010) stays valid,
    # and 100000 marks registration by a central authority.
    assert uscc_problem(_with_check("91110103600037341")) is None
    assert uscc_problem(_with_check(f"12{CENTRAL_REGION}600037341")) is None


departments_and_categories = st.sampled_from(
    [code + category for code, department in registration_departments().items() for category in department.categories]
)
listed_regions = st.sampled_from(["110105", "330100", "110103", "540481", "429004", "650102", CENTRAL_REGION])
bodies = st.text(ALPHABET, min_size=8, max_size=8)


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    body = draw(bodies)
    first17 = draw(departments_and_categories) + draw(listed_regions) + body + oracle_organisation_check(body)
    return first17 + oracle_uscc_check(first17)


@given(valid_codes())
def test_codes_built_by_the_oracles_are_valid(code: str) -> None:
    assert check_character(code[:17]) == code[17]
    assert uscc_problem(code) is None


@given(valid_codes(), st.integers(0, 17), st.integers(1, 30))
def test_one_changed_character_is_refused(code: str, position: int, shift: int) -> None:
    changed = ALPHABET[(ALPHABET.index(code[position]) + shift) % 31]
    assert checksum_problem(code[:position] + changed + code[position + 1 :]) is not None


@given(valid_codes(), st.integers(0, 16))
def test_swapping_two_neighbours_is_refused(code: str, position: int) -> None:
    # Consecutive weights differ mod 31 (and the check character's own weight is 1), so every adjacent
    # transposition of two different characters changes the sum.
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    if swapped != code:
        assert checksum_problem(swapped) is not None


@given(st.text(max_size=20))
def test_arbitrary_text_never_crashes(text: str) -> None:
    problem = uscc_problem(text)
    assert problem is None or isinstance(problem, str)
    assert registration_problem(text) is None or isinstance(registration_problem(text), str)


def reference_checksum_problem(code: str) -> str | None:
    """:func:`checksum_problem` written plainly, character by character (the fast one must answer the same)."""
    if len(code) != 18:
        return f"must be 18 characters, got {len(code)}"
    bad = sorted({char for char in code if char not in ALPHABET})
    if bad:
        return f"contains characters outside {ALPHABET}: {''.join(bad)}"
    if not all(char in "0123456789" for char in code[2:8]):
        return "positions 3–8 must be a 6-digit administrative division code"
    expected = oracle_uscc_check(code[:17])
    return None if code[17] == expected else f"check character is {code[17]!r}, expected {expected!r}"


def reference_organisation_code_problem(code: str) -> str | None:
    """:func:`organisation_code_problem` written plainly."""
    if len(code) != 9:
        return f"must be 9 characters, got {len(code)}"
    if not all(char in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" for char in code[:8]):
        return "its first 8 characters must be digits or capital letters (GB 11714-1997)"
    expected = oracle_organisation_check(code[:8])
    return None if code[8] == expected else f"check character is {code[8]!r}, GB 11714-1997 gives {expected!r}"


#: Codes near valid ones: valid, or with one character replaced by anything a file may hold (lower case, the
#: letters the alphabet leaves out, other digits, CJK, whitespace), or cut or lengthened.
near_codes = st.one_of(
    valid_codes(),
    st.tuples(valid_codes(), st.integers(0, 17), st.sampled_from([*ALPHABET, *"IOZSVaz٣２ 中\n"])).map(
        lambda found: found[0][: found[1]] + found[2] + found[0][found[1] + 1 :]
    ),
    st.tuples(valid_codes(), st.integers(0, 19)).map(lambda found: (found[0] * 2)[: found[1]]),
    st.text(ALPHABET + "IOZSVaz٣", min_size=16, max_size=19),
)


@given(near_codes)
def test_the_checks_answer_as_plain_character_by_character_ones(code: str) -> None:
    assert checksum_problem(code) == reference_checksum_problem(code)
    assert organisation_code_problem(code[8:17]) == reference_organisation_code_problem(code[8:17])
    if len(code) >= 17 and all(char in ALPHABET for char in code[:17]):
        assert check_character(code[:17]) == oracle_uscc_check(code[:17])
