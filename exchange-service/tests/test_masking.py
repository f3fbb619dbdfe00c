"""Masking and row scope as pure rules, over hypothesis-generated records, grants and scopes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from onesource.exchange.projector.service import mask
from onesource.registry.shapes.scope import in_scope

FIELDS = ["id_number", "name", "sex", "birth_date", "household_region_code", "household_address", "deceased"]
values = st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.none())
records = st.dictionaries(st.sampled_from(FIELDS), values, min_size=1)
grants = st.sets(st.sampled_from(FIELDS))


@given(record=records, granted=grants)
def test_a_masked_record_never_carries_a_field_outside_the_grant(record, granted) -> None:
    masked = mask({"record": record}, granted)
    assert masked is not None
    assert set(masked) == {"record"}
    assert set(masked["record"]) <= granted
    assert masked["record"] == {name: value for name, value in record.items() if name in granted}


@given(record=records, changes=st.dictionaries(st.sampled_from(FIELDS), values), granted=grants)
def test_an_update_is_delivered_only_with_granted_changes(record, changes, granted) -> None:
    masked = mask({"record": record, "changes": changes, "secret": "x"}, granted)
    if not set(changes) & granted:
        assert masked is None
        return
    assert masked is not None
    assert set(masked) == {"record", "changes"}
    assert set(masked["changes"]) <= granted
    assert set(masked["record"]) <= granted
    assert masked["changes"] == {name: value for name, value in changes.items() if name in granted}


def test_events_without_a_record_are_not_delivered() -> None:
    assert mask({"name": "x"}, {"name"}) is None
    assert mask({"record": "x"}, {"name"}) is None
    assert mask({"record": {"name": "x"}, "changes": ["name"]}, {"name"}) is None


regions = st.text(alphabet="0123456789", min_size=6, max_size=6)


@given(region=regions, prefixes=st.lists(st.text(alphabet="0123456789", min_size=1, max_size=6), min_size=1))
def test_row_scope_is_a_prefix_match(region, prefixes) -> None:
    record = {"household_region_code": region, "name": "x"}
    expected = any(region.startswith(prefix) for prefix in prefixes)
    assert in_scope(record, {"household_region_code": prefixes}) is expected


def test_row_scope_every_listed_field_must_match() -> None:
    record = {"household_region_code": "110105", "sex": "1", "deceased": False, "birth_date": "1949-12-31"}
    assert in_scope(record, None)
    assert in_scope(record, {})
    assert in_scope(record, {"household_region_code": ["1101"], "sex": ["1"]})
    assert not in_scope(record, {"household_region_code": ["1101"], "sex": ["2"]})
    assert in_scope(record, {"deceased": ["false"]})
    assert in_scope(record, {"birth_date": ["1949"]})
    assert not in_scope(record, {"missing": ["1"]})
    assert not in_scope({"household_region_code": None}, {"household_region_code": [""]})
