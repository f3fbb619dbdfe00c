"""The registry's rules against vectors computed here, independently of the code under test."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onesource.legal_entity.entities.rules import (
    FINAL,
    TRANSITIONS,
    EntityStatus,
    adult_on,
    canonical_amount,
    capital_problem,
    entity_problems,
    may_move,
)
from onesource.legal_entity.entities.schemas import ImportRow
from onesource.legal_entity.entities.service import registration_values
from onesource.legal_entity.imports import REGISTERED_STATUS, entity_rules
from onesource.registry.imports.checking import RowContext

TODAY = date(2026, 1, 1)
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015 §4.2: I O Z S V left out
PUBLISHED = ["91110000600037341L", "91310115342050446K", "91410103MA9EYP5H0E"]

#: The lifecycle as DESIGN.md pins it, written out pair by pair.
ALLOWED = {
    ("active", "suspended"),
    ("active", "revoked"),
    ("active", "deregistered"),
    ("active", "cancelled"),
    ("active", "moved_out"),
    ("suspended", "active"),
    ("suspended", "deregistered"),
    ("revoked", "deregistered"),
}


def oracle_uscc_check(first17: str) -> str:
    """The c with Σ value·3^(i-1) + value(c) ≡ 0 (mod 31), found by trying all 31."""
    total = sum(ALPHABET.index(char) * pow(3, index, 31) for index, char in enumerate(first17))
    return next(char for value, char in enumerate(ALPHABET) if (total + value) % 31 == 0)


def oracle_organisation_check(body: str) -> str:
    """The c in 1..11 with Σ value·weight + c ≡ 0 (mod 11); 10 is X, 11 is 0 (GB 11714-1997)."""
    total = sum(int(char, 36) * weight for char, weight in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = next(candidate for candidate in range(1, 12) if (total + candidate) % 11 == 0)
    return {10: "X", 11: "0"}.get(check, str(check))


def uscc_problems(code: str) -> list[str]:
    return [problem.reason for problem in entity_problems({"uscc": code}, today=TODAY) if problem.field == "uscc"]


#: Positions 1–2 of GB 32100's table (a sample across departments) and real GB/T 2260 codes (and 100000).
REGISTRATIONS = ["11", "12", "13", "19", "21", "31", "35", "41", "51", "52", "53", "61", "71", "81", "91", "92", "93"]
REGIONS = ["110105", "310115", "410103", "330106", "440305", "100000"]


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    """A valid USCC, made with the oracles: table characters, a real region, GB 11714 and GB 32100 checks."""
    body = draw(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8))
    organisation = body + oracle_organisation_check(body)
    first17 = draw(st.sampled_from(REGISTRATIONS)) + draw(st.sampled_from(REGIONS)) + organisation
    return first17 + oracle_uscc_check(first17)


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_pass(code: str) -> None:
    assert uscc_problems(code) == []
    assert oracle_uscc_check(code[:17]) == code[17]
    assert oracle_organisation_check(code[8:16]) == code[16]


@given(valid_usccs())
def test_codes_made_by_the_oracles_pass(code: str) -> None:
    assert uscc_problems(code) == []


@settings(max_examples=300)
@given(valid_usccs(), st.integers(0, 17), st.sampled_from(ALPHABET + "IOZSV"))
def test_any_single_character_change_is_refused(code: str, position: int, replacement: str) -> None:
    if code[position] == replacement:
        return
    changed = code[:position] + replacement + code[position + 1 :]
    assert uscc_problems(changed), changed


@settings(max_examples=300)
@given(valid_usccs(), st.integers(0, 16))
def test_any_adjacent_transposition_is_refused(code: str, position: int) -> None:
    if code[position] == code[position + 1]:
        return
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert uscc_problems(swapped), swapped


def test_every_transition_of_the_lifecycle_table() -> None:
    statuses = [status.value for status in EntityStatus]
    assert statuses == ["active", "suspended", "revoked", "deregistered", "cancelled", "moved_out"]
    for current, to in itertools.product(EntityStatus, EntityStatus):
        assert may_move(current, to) == ((current.value, to.value) in ALLOWED), (current, to)
    assert {status.value for status in FINAL} == {"deregistered", "cancelled", "moved_out"}
    assert set(TRANSITIONS) == set(EntityStatus)


@pytest.mark.parametrize(
    ("capital", "problem"),
    [
        ({"amount": "0", "currency": "CNY"}, None),
        ({"amount": "1000000.00", "currency": "CNY"}, None),
        ({"amount": "12.5", "currency": "USD"}, None),
        ({"amount": "100", "currency": "JPY"}, None),
        ({"amount": "1.5", "currency": "JPY"}, "decimal places"),  # the yen has no minor unit
        ({"amount": "1.234", "currency": "KWD"}, None),  # three decimals in Kuwait
        ({"amount": "-1", "currency": "CNY"}, "non-negative decimal"),
        ({"amount": "+1", "currency": "CNY"}, "non-negative decimal"),
        ({"amount": "1e6", "currency": "CNY"}, "non-negative decimal"),
        ({"amount": "1,000", "currency": "CNY"}, "non-negative decimal"),
        ({"amount": "01", "currency": "CNY"}, "non-negative decimal"),
        ({"amount": ".5", "currency": "CNY"}, "non-negative decimal"),
        ({"amount": "1.", "currency": "CNY"}, "non-negative decimal"),
        ({"amount": "１", "currency": "CNY"}, "non-negative decimal"),  # a full-width digit
        ({"amount": 100, "currency": "CNY"}, "non-negative decimal"),
        ({"amount": "1", "currency": "RMB"}, "ISO 4217"),
        ({"amount": "1", "currency": "cny"}, "3 capital letters"),
    ],
)
def test_registered_capital(capital: dict[str, object], problem: str | None) -> None:
    found = capital_problem(capital)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_amounts_are_kept_exactly() -> None:
    assert canonical_amount("1000.50") == "1000.50"
    assert canonical_amount("0.10") == "0.10"
    assert canonical_amount("123456789012345678.99") == "123456789012345678.99"


def test_age_of_majority() -> None:
    assert adult_on(date(2008, 1, 1), date(2026, 1, 1))
    assert not adult_on(date(2008, 1, 2), date(2026, 1, 1))
    assert not adult_on(date(2008, 2, 29), date(2026, 2, 28))
    assert adult_on(date(2008, 2, 29), date(2026, 3, 1))


@pytest.mark.parametrize(
    ("uscc", "entity_type", "consistent"),
    [
        ("91110000600037341L", "1130", True),
        ("91110000600037341L", "91", True),
        ("91110000600037341L", "92", False),
        ("91110000600037341L", "51", False),
        ("51110000600037341L", "51", True),
        ("51110000600037341L", "1130", False),
        ("N2110000600037341L", "N2", True),
    ],
)
def test_the_entity_type_agrees_with_the_uscc(uscc: str, entity_type: str, consistent: bool) -> None:
    problems = entity_problems({"uscc": uscc, "entity_type": entity_type}, today=TODAY)
    assert (not [problem for problem in problems if problem.field == "entity_type"]) == consistent


@pytest.mark.parametrize("capital", [None, ("1000.50", "usd")], ids=["without capital", "with capital"])
def test_an_import_row_is_registered_with_the_values_its_model_dump_gives(capital: tuple[str, str] | None) -> None:
    # The import reads a validated row's fields without model_dump (a cost on every row): the same record results.
    values = {
        "uscc": "91110000600037341L",
        "name": " 北京示例科技有限公司 ",
        "former_names": "旧名一;旧名二",
        "entity_type": "1130",
        "legal_representative_id": "11010519491231002x",
        "established_on": "2015-06-01",
        "registration_authority": "北京市市场监督管理局",
        "region_code": "110105",
        "industry_code": "6513",
        "address": "北京市朝阳区建国路88号",
    }
    if capital is not None:
        values["registered_capital_amount"], values["registered_capital_currency"] = capital
    today = date(2026, 1, 2)
    registered = entity_rules(values, RowContext(today, storable=True))
    dumped = ImportRow.model_validate(values).model_dump()
    assert registered == {**registration_values(dumped, today=today), **REGISTERED_STATUS}
    assert isinstance(registered, dict)
    assert registered["registered_capital"] == (None if capital is None else {"amount": "1000.50", "currency": "USD"})
