from __future__ import annotations

import pytest

from onesource.standards.entity_types import COMPANY_REGISTRATION, entity_type, entity_type_problem, entity_types
from onesource.standards.uscc import registration_departments


def test_every_category_of_gb_32100s_table_is_a_type_and_companies_are_enterprises() -> None:
    types = entity_types()
    for department in registration_departments().values():
        for category, name in department.categories.items():
            assert types[department.code + category].name == name
    companies = [kind for code, kind in types.items() if len(code) == 4]
    assert len(companies) == 12
    assert all((kind.department, kind.category) == COMPANY_REGISTRATION for kind in companies)
    assert entity_type("1130") is not None
    assert entity_type("1130").name == "有限责任公司（自然人投资或控股）"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "uscc", "ok"),
    [
        ("1130", "91110000600037341L", True),
        ("1200", "91110000600037341L", True),
        ("91", "91110000600037341L", True),
        ("92", "92110000600037341L", True),
        ("1130", "92110000600037341L", False),
        ("51", "52110000600037341L", False),
        ("Y1", "Y1110000600037341L", True),
        ("Y2", "Y2110000600037341L", False),  # Y has the single category 1
        ("0000", None, False),
        ("91", None, True),
    ],
)
def test_a_type_and_its_uscc(code: str, uscc: str | None, ok: bool) -> None:
    assert (entity_type_problem(code, uscc) is None) == ok
