from __future__ import annotations

import pytest

from onesource.standards.currencies import currencies, currency, currency_problem
from onesource.standards.land_use import land_use_class, land_use_classes, land_use_problem
from onesource.standards.person_codes import EDUCATION, ETHNICITY, MARITAL_STATUS, RELATIONSHIP, SEX


@pytest.mark.parametrize(
    ("code", "numeric", "minor_unit", "fund"),
    [
        ("CNY", "156", 2, False),
        ("USD", "840", 2, False),
        ("JPY", "392", 0, False),
        ("BHD", "048", 3, False),
        ("CLF", "990", 4, True),
        ("XAU", "959", None, False),
        ("ZWG", "924", 2, False),
    ],
)
def test_currencies(code: str, numeric: str, minor_unit: int | None, fund: bool) -> None:
    entry = currency(code)
    assert entry is not None
    assert (entry.numeric, entry.minor_unit, entry.fund) == (numeric, minor_unit, fund)


def test_currency_table() -> None:
    table = currencies()
    assert len(table) == 179  # table A.1 published 2024-06-25
    numerics = [entry.numeric for entry in table.values()]
    assert len(set(numerics)) == len(numerics)
    assert all(len(numeric) == 3 and numeric.isdigit() for numeric in numerics)
    assert all(entry.minor_unit in (None, 0, 2, 3, 4) for entry in table.values())
    assert currency("HRK") is None  # withdrawn 2023
    assert currency_problem("CNY") is None
    assert currency_problem("RMB") == "RMB is not an ISO 4217 currency code"
    assert currency_problem("cny") == "must be 3 capital letters (ISO 4217)"


def test_land_use_classes() -> None:
    classes = land_use_classes()
    first = [entry for entry in classes.values() if entry.level == 1]
    second = [entry for entry in classes.values() if entry.level == 2]
    assert (len(first), len(second)) == (12, 73)
    assert all(entry.parent in classes and classes[entry.parent].level == 1 for entry in second)
    assert [entry.name for entry in first][:3] == ["耕地", "园地", "林地"]
    for code, name in [("0101", "水田"), ("0807", "文化设施用地"), ("0809", "公用设施用地"), ("1207", "裸岩石砾地")]:
        entry = land_use_class(code)
        assert entry is not None
        assert entry.name == name
    assert land_use_problem("0101") is None
    assert land_use_problem("01") == "01 (耕地) is a first-level class; give its second-level class (4 digits)"
    assert land_use_problem("01", second_level=False) is None
    assert land_use_problem("0811") == "'0811' is not a GB/T 21010-2017 land-use code"


def test_person_code_lists() -> None:
    assert SEX == {"0": "未知的性别", "1": "男性", "2": "女性", "9": "未说明的性别"}
    assert len(ETHNICITY) == 58  # 56 nationalities and the two codes of household registration
    assert (ETHNICITY["01"], ETHNICITY["56"], ETHNICITY["98"]) == ("汉族", "基诺族", "外国血统中国籍人士")
    assert MARITAL_STATUS["20"] == "已婚"
    assert EDUCATION["21"] == "大学本科毕业"
    assert RELATIONSHIP["02"] == "户主"
