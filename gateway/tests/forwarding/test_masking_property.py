"""Property: whatever the grants (fields, purposes, validity, row scopes) and the records, a masked answer never
holds a field outside the union of the matching grants, nor a record outside their row scopes."""

from __future__ import annotations

import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from onesource.gateway.forwarding.masking import METADATA_FIELDS, Mask
from onesource.gateway.forwarding.service import for_purpose
from onesource.gateway.grants.index import GrantIndex
from onesource.gateway.grants.schemas import Grant

NOW = time.time()
FIELDS = ["id_number", "name", "region", "sex", "version", "updated_at"]
PURPOSES = ["审核", "救助"]
RESOURCES = ["r.base", "r.extended", "r.other"]
COVERING = ["r.base", "r.extended"]

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    st.sampled_from(["1101", "110105", "3101", "", "11"]),
    st.text(max_size=4),
)
records = st.dictionaries(st.sampled_from([*FIELDS, "other"]), values, min_size=0, max_size=7)
scopes = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(FIELDS),
        st.lists(st.sampled_from(["1", "11", "1101", "3", "t", "f", ""]), min_size=1, max_size=3),
        min_size=1,
        max_size=2,
    ),
)
windows = st.sampled_from([(NOW - 60, NOW + 60), (NOW - 120, NOW - 60), (NOW + 60, NOW + 120)])


@st.composite
def grants(draw: st.DrawFn) -> list[Grant]:
    found = []
    for number in range(draw(st.integers(0, 6))):
        valid_from, valid_until = draw(windows)
        scope = draw(scopes)
        found.append(
            Grant(
                id=f"g{number}",
                department=draw(st.sampled_from(["mca", "hrss"])),
                resource=draw(st.sampled_from(RESOURCES)),
                fields=frozenset(draw(st.lists(st.sampled_from(FIELDS), max_size=6))),
                purpose=draw(st.sampled_from(PURPOSES)),
                row_scope=None if scope is None else {name: tuple(prefixes) for name, prefixes in scope.items()},
                valid_from=valid_from,
                valid_until=valid_until,
            )
        )
    return found


def text_of(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def expected(record: dict[str, Any], grants: list[Grant], purpose: str) -> dict[str, Any] | None:
    """The reference: which fields of ``record`` department mca may see for ``purpose``, written out plainly."""
    visible: set[str] = set()
    covered = False
    for grant in grants:
        usable = (
            grant.department == "mca"
            and grant.resource in COVERING
            and grant.purpose == purpose
            and grant.valid_from <= NOW < grant.valid_until
        )
        in_scope = grant.row_scope is None or all(
            record.get(name) is not None and any(text_of(record[name]).startswith(p) for p in prefixes)
            for name, prefixes in grant.row_scope.items()
        )
        if usable and in_scope:
            covered = True
            visible |= grant.fields
    if not covered:
        return None
    return {name: value for name, value in record.items() if name in visible and name not in METADATA_FIELDS}


def mask_for(grants: list[Grant], purpose: str) -> Mask:
    """What the data path does: grants in force on the covering resources, for the purpose."""
    in_force = GrantIndex(grants).in_force("mca", COVERING, NOW)
    return Mask(for_purpose(in_force, purpose), ["id_number"])


@settings(max_examples=400, deadline=None)
@given(grants(), st.sampled_from(PURPOSES), st.lists(records, max_size=8))
def test_a_list_holds_only_granted_fields_of_records_in_scope(
    grants: list[Grant], purpose: str, rows: list[dict[str, Any]]
) -> None:
    masked = mask_for(grants, purpose).apply({"items": rows, "next_cursor": None, "facets": {"x": 1}})
    assert masked is not None
    wanted = [row for row in (expected(record, grants, purpose) for record in rows) if row is not None]
    assert masked.body == {"items": wanted, "next_cursor": None}
    union = set().union(*(grant.fields for grant in grants if grant.purpose == purpose)) - METADATA_FIELDS
    for item in masked.body["items"]:
        assert set(item) <= union


@settings(max_examples=400, deadline=None)
@given(grants(), st.sampled_from(PURPOSES), records)
def test_a_record_is_masked_or_not_there(grants: list[Grant], purpose: str, record: dict[str, Any]) -> None:
    if "items" in record and "next_cursor" in record:
        return
    masked = mask_for(grants, purpose).apply(record)
    wanted = expected(record, grants, purpose)
    if wanted is None:
        assert masked is None
    else:
        assert masked is not None
        assert masked.body == wanted
        assert not METADATA_FIELDS & set(masked.body)
