from __future__ import annotations

from collections import Counter

import pytest

from onesource.standards.industries import (
    SECTION_DIVISIONS,
    IndustryLevel,
    industries,
    industry,
    industry_class,
    industry_class_problem,
    section_of,
)


def test_counts() -> None:
    counts = Counter(entry.level for entry in industries().values())
    # 20 sections, 97 divisions, 473 groups as announced. The 2017 table lists 1,381 classes, one more than the 1,380
    # of the announcement: three independent reproductions of the table agree on the 1,381 (data/SOURCES.md).
    assert counts == {
        IndustryLevel.SECTION: 20,
        IndustryLevel.DIVISION: 97,
        IndustryLevel.GROUP: 473,
        IndustryLevel.CLASS: 1381,
    }


@pytest.mark.parametrize(
    ("code", "name", "parent"),
    [
        ("C", "制造业", None),
        ("39", "计算机、通信和其他电子设备制造业", "C"),
        ("392", "通信设备制造", "39"),
        ("3921", "通信系统设备制造", "392"),
        ("0111", "稻谷种植", "011"),
        ("0712", "海洋石油开采", "071"),
        ("1363", "鱼油提取及制品制造", "136"),
        ("6572", "动漫、游戏数字内容服务", "657"),
        ("7289", "其他会议、会展及相关服务", "728"),
        ("9291", "消防管理机构", "929"),
        ("9700", "国际组织", "970"),
        ("37", "铁路、船舶、航空航天和其他运输设备制造业", "C"),  # cut short in the extracted source, repaired
        ("3531", "食品、酒、饮料及茶生产专用设备制造", "353"),  # likewise
    ],
)
def test_named_entries(code: str, name: str, parent: str | None) -> None:
    entry = industry(code)
    assert entry is not None
    assert (entry.name, entry.parent) == (name, parent)


def test_sections_by_division_agree_with_the_table() -> None:
    # DESIGN.md's ranges (SECTION_DIVISIONS) against the parents in the data.
    for entry in industries().values():
        if entry.level is IndustryLevel.DIVISION:
            assert section_of(entry.code) == entry.parent
    covered = [number for _, first, last in SECTION_DIVISIONS for number in range(first, last + 1)]
    divisions = sorted(int(entry.code) for entry in industries().values() if entry.level is IndustryLevel.DIVISION)
    assert covered == divisions  # every division in exactly one range, none outside them


def test_every_code_sits_under_its_prefix() -> None:
    entries = industries()
    for entry in entries.values():
        if entry.level is IndustryLevel.SECTION:
            assert entry.parent is None
            assert entry.code in "ABCDEFGHIJKLMNOPQRST"
        elif entry.level is not IndustryLevel.DIVISION:
            assert entry.parent == entry.code[:-1]
            assert entry.parent in entries
        assert entry.name
        assert entry.name.strip() == entry.name
    for group in (entry for entry in entries.values() if entry.level is IndustryLevel.GROUP):
        assert any(code[:3] == group.code for code in entries if len(code) == 4)  # every group has a class


def test_section_of_a_class() -> None:
    assert section_of("3921") == "C"
    assert section_of("0111") == "A"
    assert section_of("9700") == "T"
    assert section_of("9999") is None
    assert section_of("") is None


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("3921", None),
        ("0190", None),  # a group without classes of its own is also its only class
        ("392", "must be 4 digits (a GB/T 4754-2017 class)"),
        ("39211", "must be 4 digits (a GB/T 4754-2017 class)"),
        ("3920", "3920 is not a class of GB/T 4754-2017"),
        ("1364", "1364 is not a class of GB/T 4754-2017"),  # a class of the 2011 edition
        ("9290", "9290 is not a class of GB/T 4754-2017"),
    ],
)
def test_class_problems(code: str, problem: str | None) -> None:
    assert industry_class_problem(code) == problem
    assert (industry_class(code) is None) == (problem is not None)
