"""A query key's leading values as ranges of the byte-ordered key index."""

from __future__ import annotations

from onesource.macroeconomy.data.repository import MAX_KEY_RANGES, key_ranges
from onesource.macroeconomy.series.keys import parse_query

DIMENSIONS = ["FREQ", "REF_AREA", "INDICATOR", "PRICE_BASIS"]


def ranges(key: str) -> tuple[list[str], list[str], int] | None:
    return key_ranges(parse_query(key, DIMENSIONS))


def test_leading_positions_give_a_range_per_combination_in_byte_order() -> None:
    assert ranges("Q+A.330000+110000..CUR") == (
        ["A.110000.", "A.330000.", "Q.110000.", "Q.330000."],
        ["A.110000/", "A.330000/", "Q.110000/", "Q.330000/"],
        2,
    )


def test_a_key_giving_every_position_selects_its_keys_only() -> None:
    low, high, covered = ranges("Q.330000.GDP.CUR+CON") or ([], [], 0)
    assert covered == 4
    assert low == ["Q.330000.GDP.CON", "Q.330000.GDP.CUR"]
    # the high end is the next string after the key in byte order that a key could be: nothing lies between
    assert all(h == k + "\x01" for k, h in zip(low, high, strict=True))
    assert "Q.330000.GDP.CUR" < "Q.330000.GDP.CUR\x01" < "Q.330000.GDP.CURX"


def test_without_two_leading_positions_the_series_are_scanned() -> None:
    assert ranges("Q...") is None
    assert ranges(".330000.GDP.CUR") is None
    assert ranges("all") is None


def test_the_ranges_stop_before_a_position_that_would_make_too_many() -> None:
    areas = "+".join(f"{n:06d}" for n in range(MAX_KEY_RANGES // 2 + 1))
    found = ranges(f"Q+A.{areas}.GDP.CUR")
    assert found is None  # 2 × 1,001 ranges: fewer positions, and one position alone is not ranged
    found = ranges(f"Q.{areas}.GDP+GDPI.")
    assert found is not None
    low, _, covered = found
    assert covered == 2
    assert len(low) == MAX_KEY_RANGES // 2 + 1
