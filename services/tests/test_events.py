"""Event ids derived again for events written at publication: stable, distinct, and still UUIDv7."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from onesource.kit.events import derived_event_id, new_event_id

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))
names = st.lists(st.text(max_size=20), min_size=1, max_size=3)


@given(moments, names)
def test_a_derived_id_is_a_uuid7_of_its_moment_and_the_same_every_time(at: datetime, parts: list[str]) -> None:
    event_id = derived_event_id(at, *parts)
    value = uuid.UUID(event_id)
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert value.int >> 80 == int(at.timestamp() * 1000), "the first 48 bits are the Unix milliseconds"
    assert derived_event_id(at, *parts) == event_id


@given(moments, names, names)
def test_different_names_give_different_ids(at: datetime, first: list[str], second: list[str]) -> None:
    if first != second:  # a separator inside a name must not make two lists alike (["a,b"] and ["a", "b"])
        assert derived_event_id(at, *first) != derived_event_id(at, *second)


def test_names_that_join_alike_still_differ() -> None:
    at = datetime.now(UTC)
    assert derived_event_id(at, "a\x1fb") != derived_event_id(at, "a", "b")
    assert derived_event_id(at, "1:a") != derived_event_id(at, "1", "a")


def test_derived_ids_sort_by_time_among_new_ones() -> None:
    at = datetime.now(UTC)
    earlier, later = new_event_id(), derived_event_id(at + timedelta(milliseconds=5), "import", "11010519491231002X")
    assert earlier < later < derived_event_id(at + timedelta(seconds=1), "import", "11010519491231002X")
