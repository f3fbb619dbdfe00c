from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onesource.standards._files import read_table
from onesource.standards.divisions import (
    FIRST_EDITION,
    LAST_EDITION,
    PROVINCES,
    Level,
    division,
    division_problem,
    divisions,
    is_listed_division,
    is_valid_division,
    level_of,
)


def test_named_entries() -> None:
    chaoyang = division("110105", date(2024, 6, 1))
    assert chaoyang is not None
    assert (chaoyang.name, chaoyang.level, chaoyang.parent) == ("朝阳区", Level.COUNTY, "110000")
    assert (chaoyang.valid_from, chaoyang.valid_to) == (None, None)  # in every edition, 1981–2024
    hangzhou = division("330100", date(2024, 6, 1))
    assert hangzhou is not None
    assert (hangzhou.name, hangzhou.level, hangzhou.parent) == ("杭州市", Level.PREFECTURE, "330000")
    zhejiang = division("330000", date(2024, 6, 1))
    assert zhejiang is not None
    assert (zhejiang.name, zhejiang.level, zhejiang.parent) == ("浙江省", Level.PROVINCE, None)
    xiantao = division("429004", date(2024, 6, 1))  # a county-level city directly under 湖北省
    assert xiantao is not None
    assert (xiantao.name, xiantao.parent) == ("仙桃市", "420000")


def test_hangzhou_2021_abolished_and_created_districts_answer_by_date() -> None:
    # 浙政发〔2021〕7号, 2021-03-11: 下城区 and 江干区 abolished, 临平区 and 钱塘区 created.
    before, after = date(2021, 3, 10), date(2021, 3, 11)
    names_before = {d.name for d in divisions(before, parent="330100")}
    names_after = {d.name for d in divisions(after, parent="330100")}
    assert {"下城区", "江干区"} <= names_before
    assert not {"临平区", "钱塘区"} & names_before
    assert {"临平区", "钱塘区"} <= names_after
    assert not {"下城区", "江干区"} & names_after
    assert is_valid_division("330103", before)
    assert not is_valid_division("330103", after)
    assert division_problem("330103", after) == "330103 (下城区) was abolished on 2021-03-11, before 2021-03-11"
    created = division("330113", after)
    assert created is not None
    assert (created.name, created.valid_from, created.parent) == ("临平区", date(2021, 3, 11), "330100")


def test_a_county_that_became_a_city_in_2023() -> None:
    # 米林县 (540422) became the county-level city 米林市 (540481) on 2023-04-03.
    assert division_problem("540481", date(2023, 4, 2)) == "540481 (米林市) was created on 2023-04-03, after 2023-04-02"
    old = division("540422", date(2023, 4, 2))
    new = division("540481", date(2023, 4, 3))
    assert old is not None
    assert new is not None
    assert (old.name, old.valid_to) == ("米林县", date(2023, 4, 3))
    assert (new.name, new.valid_from, new.valid_to, new.parent) == ("米林市", date(2023, 4, 3), None, "540400")
    assert division("540422", date(2023, 4, 3)) is None


def test_a_renamed_district_keeps_its_code() -> None:
    # 邢台市桥西区更名为信都区 (2020): one code, two names, one boundary.
    old = division("130503", date(2020, 6, 4))
    new = division("130503", date(2020, 6, 5))
    assert old is not None
    assert new is not None
    assert (old.name, new.name) == ("桥西区", "信都区")
    assert old.valid_to == new.valid_from == date(2020, 6, 5)


def test_codes_of_the_last_editions() -> None:
    assert is_valid_division("653228", LAST_EDITION)  # 和康县, created December 2024
    assert not is_valid_division("653228", date(2023, 12, 31))
    assert is_listed_division("110103")  # 崇文区, abolished in 2010
    assert not is_valid_division("110103", date(2011, 1, 1))
    assert division("110105", date(2040, 1, 1)) == division("110105", LAST_EDITION)  # beyond the data: the last state
    assert division("110105", date(1950, 1, 1)) == division("110105", FIRST_EDITION)  # before it: the first


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("11010", "must be 6 digits (GB/T 2260)"),
        ("11010５", "must be 6 digits (GB/T 2260)"),
        ("110100", "110100 is not a GB/T 2260 division code"),  # the lists' 市辖区 placeholder is no division
        ("999999", "999999 is not a GB/T 2260 division code"),
    ],
)
def test_problems(code: str, reason: str) -> None:
    assert division_problem(code, date(2024, 1, 1)) == reason


@pytest.mark.parametrize(
    ("on", "provinces", "prefectures", "counties"),
    [
        # The Ministry of Civil Affairs' statistics: 333 prefecture-level and 2,844 county-level divisions at the end
        # of 2020 (3,211 lines in that year's list with the 34 provinces); 2,846 at the end of 2024 (3,213 lines).
        (date(2020, 12, 31), 34, 333, 2844),
        (date(2024, 12, 31), 34, 333, 2846),
    ],
)
def test_counts_of_editions(on: date, provinces: int, prefectures: int, counties: int) -> None:
    counts = Counter(d.level for d in divisions(on))
    assert counts == {Level.PROVINCE: provinces, Level.PREFECTURE: prefectures, Level.COUNTY: counties}


def test_children_by_level() -> None:
    on = date(2024, 6, 1)
    zhejiang = divisions(on, parent="330000")
    assert len(zhejiang) == 11
    assert {d.level for d in zhejiang} == {Level.PREFECTURE}
    assert [d.name for d in divisions(on, parent="330000", level=Level.COUNTY)] == []
    hubei_direct = divisions(on, parent="420000", level=Level.COUNTY)
    assert [d.name for d in hubei_direct] == ["仙桃市", "潜江市", "天门市", "神农架林区"]
    assert len(divisions(on, level=Level.PROVINCE)) == 34


def test_province_table_matches_the_list() -> None:
    listed = {d.code[:2]: d.name for d in divisions(LAST_EDITION, level=Level.PROVINCE)}
    assert listed == PROVINCES


def test_the_file_is_consistent() -> None:
    rows = read_table("divisions.csv")
    assert list(rows[0]) == ["code", "name", "valid_from", "valid_to"]
    by_code: dict[str, list[tuple[date, date]]] = {}
    for row in rows:
        assert len(row["code"]) == 6
        assert row["code"].isdigit()
        assert row["name"]
        start = date.fromisoformat(row["valid_from"]) if row["valid_from"] else date.min
        end = date.fromisoformat(row["valid_to"]) if row["valid_to"] else date.max
        assert start < end
        assert start == date.min or FIRST_EDITION < start <= LAST_EDITION
        by_code.setdefault(row["code"], []).append((start, end))
    for spans in by_code.values():
        assert all(earlier[1] <= later[0] for earlier, later in pairwise(spans))


def test_every_division_of_every_edition_has_its_parent() -> None:
    for year in range(FIRST_EDITION.year, LAST_EDITION.year + 1):
        listed = divisions(date(year, 12, 31))
        present = {d.code for d in listed}
        for found in listed:
            if found.level is Level.PROVINCE:
                assert found.parent is None
            else:
                assert found.parent in present
                assert level_of(found.parent) is not Level.COUNTY


@settings(max_examples=25, deadline=None)
@given(st.dates(min_value=date(1981, 1, 1), max_value=date(2026, 12, 31)))
def test_the_list_of_a_date_is_what_each_code_answers(on: date) -> None:
    listed = divisions(on)
    for found in listed[::97]:
        assert division(found.code, on) == found
        assert is_valid_division(found.code, on)
        assert found.valid_from is None or found.valid_from <= on
        assert found.valid_to is None or on < found.valid_to
        if found.valid_to is not None:
            assert division(found.code, found.valid_to) != found
        if found.valid_from is not None:
            assert division(found.code, found.valid_from - timedelta(days=1)) != found
