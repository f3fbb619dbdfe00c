"""Masking GeoJSON answers (``registry.shapes.geojson``): examples, refusals, and a property against an oracle."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onesource.registry.shapes.geojson import METADATA_FIELDS, check_document, in_scope, mask, mask_each

SQUARE = {"type": "Polygon", "coordinates": [[[120.1, 30.27], [120.101, 30.27], [120.101, 30.271], [120.1, 30.27]]]}


def parcel(code: str, division: str, land_use: str = "0701", **extra: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": code,
        "geometry": SQUARE,
        "properties": {
            "parcel_code": code,
            "division_code": division,
            "land_use": land_use,
            "area_m2": 10667.05,
            "version": 3,
            "updated_at": "2025-01-01T00:00:00Z",
        },
        **extra,
    }


def items_page(*features: dict[str, Any]) -> dict[str, Any]:
    """An OGC API – Features items page."""
    return {
        "type": "FeatureCollection",
        "features": list(features),
        "links": [
            {"href": "items?limit=2", "rel": "self", "type": "application/geo+json", "title": "This page"},
            {"href": "items?limit=2&cursor=abc", "rel": "next", "type": "application/geo+json"},
        ],
        "numberMatched": 10,
        "numberReturned": len(features),
        "timeStamp": "2025-06-01T00:00:00Z",
    }


def test_a_feature_keeps_the_granted_properties_and_its_geometry_only_when_granted() -> None:
    document = parcel("330106001002GB00001", "330106", bbox=[120.1, 30.27, 120.101, 30.271])
    before = copy.deepcopy(document)
    with_geometry = mask(document, {"parcel_code", "land_use", "geometry"}, key="parcel_code")
    assert with_geometry is not None
    assert with_geometry.document == {
        "type": "Feature",
        "id": "330106001002GB00001",
        "geometry": SQUARE,
        "properties": {"parcel_code": "330106001002GB00001", "land_use": "0701"},
        "bbox": [120.1, 30.27, 120.101, 30.271],
    }
    assert with_geometry.fields == ("geometry", "land_use", "parcel_code")
    assert with_geometry.keys == ("330106001002GB00001",)
    assert not with_geometry.collection
    without = mask(document, {"land_use"}, key="parcel_code")
    assert without is not None
    assert without.document == {"type": "Feature", "geometry": None, "properties": {"land_use": "0701"}}
    assert without.fields == ("land_use",)
    assert without.keys == ("330106001002GB00001",), "the audit names the record even when its key is not returned"
    assert document == before, "the input is not changed"


def test_metadata_is_never_returned_even_if_named() -> None:
    masked = mask(parcel("c1", "330106"), {"version", "updated_at", "land_use"})
    assert masked is not None
    assert masked.document["properties"] == {"land_use": "0701"}


def test_a_single_feature_out_of_scope_is_none() -> None:
    assert mask(parcel("c1", "330106"), {"land_use"}, {"division_code": ["3302"]}) is None
    assert mask(parcel("c1", "330106"), {"land_use"}, lambda properties: False) is None


def test_a_collection_drops_features_out_of_scope_and_recounts() -> None:
    page = items_page(parcel("c1", "330106"), parcel("c2", "330212"), parcel("c3", "330108"))
    masked = mask(page, {"parcel_code", "geometry"}, {"division_code": ["3301"]}, key="parcel_code")
    assert masked is not None
    assert [feature["id"] for feature in masked.document["features"]] == ["c1", "c3"]
    assert masked.document["numberReturned"] == 2
    assert "numberMatched" not in masked.document, "it would count records out of the caller's scope"
    assert masked.document["timeStamp"] == page["timeStamp"]
    assert masked.document["links"] == page["links"]
    assert masked.keys == ("c1", "c3")
    assert masked.collection


def test_numbers_matched_stay_when_rows_are_not_scoped_and_links_can_be_rewritten() -> None:
    page = items_page(parcel("c1", "330106"))

    def seal(link: dict[str, Any]) -> dict[str, Any]:
        return {**link, "href": link["href"].replace("cursor=abc", "cursor=SEALED")}

    masked = mask(page, {"land_use"}, link=seal)
    assert masked is not None
    assert masked.document["numberMatched"] == 10
    assert masked.document["links"][1]["href"] == "items?limit=2&cursor=SEALED"
    assert page["links"][1]["href"] == "items?limit=2&cursor=abc"


def test_the_platforms_cursor_pages_pass_their_cursor() -> None:
    page = {"type": "FeatureCollection", "features": [parcel("c1", "330106")], "next_cursor": "eyJ9"}
    masked = mask(page, {"land_use"})
    assert masked is not None
    assert masked.document["next_cursor"] == "eyJ9"


def test_a_collection_bbox_stays_only_when_nothing_was_hidden() -> None:
    page = {
        "type": "FeatureCollection",
        "features": [parcel("c1", "330106"), parcel("c2", "3302")],
        "bbox": [1, 2, 3, 4],
    }
    assert mask(page, {"geometry"}).document["bbox"] == [1, 2, 3, 4]  # type: ignore[union-attr]
    assert "bbox" not in mask(page, {"land_use"}).document  # type: ignore[union-attr]
    assert "bbox" not in mask(page, {"geometry"}, {"division_code": ["3301"]}).document  # type: ignore[union-attr]


def test_each_feature_sees_the_union_of_the_grants_that_cover_it() -> None:
    page = {"type": "FeatureCollection", "features": [parcel("c1", "330106"), parcel("c2", "330212")]}

    def visible(properties: dict[str, Any]) -> set[str] | None:
        fields = {"parcel_code"}
        if properties["division_code"].startswith("3301"):
            fields |= {"geometry", "area_m2"}
        return fields

    masked = mask_each(page, visible, key="parcel_code")
    assert masked is not None
    first, second = masked.document["features"]
    assert first["geometry"] == SQUARE
    assert set(first["properties"]) == {"parcel_code", "area_m2"}
    assert second["geometry"] is None
    assert set(second["properties"]) == {"parcel_code"}
    assert masked.fields == ("area_m2", "geometry", "parcel_code")


@pytest.mark.parametrize(
    ("scope", "properties", "expected"),
    [
        (None, {}, True),
        ({}, {}, True),
        ({"division_code": ["3301"]}, {"division_code": "330106"}, True),
        ({"division_code": ["3301", "3302"]}, {"division_code": "330212"}, True),
        ({"division_code": ["3301"]}, {"division_code": "340106"}, False),
        ({"division_code": ["3301"]}, {"division_code": None}, False),
        ({"division_code": ["3301"]}, {}, False),
        ({"active": ["t"]}, {"active": True}, True),
        ({"active": ["t"]}, {"active": False}, False),
        ({"area": ["10"]}, {"area": 1066}, True),
        ({"division_code": ["3301"], "land_use": ["07"]}, {"division_code": "330106", "land_use": "0101"}, False),
    ],
)
def test_row_scope_is_the_record_rule(scope: Any, properties: dict[str, Any], expected: bool) -> None:
    assert in_scope(properties, scope) is expected


FOREIGN = [
    {"type": "Topology", "objects": {}},
    {"type": "Point", "coordinates": [1, 2]},  # a bare geometry is not an answer of records
    {"type": "GeometryCollection", "geometries": []},
    {"type": "Feature", "geometry": None},  # no properties
    {"type": "Feature", "geometry": None, "properties": None},
    {"type": "Feature", "properties": {}},  # no geometry member
    {"type": "Feature", "geometry": None, "properties": {}, "secret": 1},
    {"type": "Feature", "geometry": None, "properties": {}, "id": True},
    {"type": "Feature", "geometry": None, "properties": {}, "id": {"a": 1}},
    {"type": "Feature", "geometry": None, "properties": {}, "bbox": [1, 2, 3]},
    {"type": "Feature", "geometry": {"type": "Circle", "coordinates": [1, 2]}, "properties": {}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1]}, "properties": {}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, "2"]}, "properties": {}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, True]}, "properties": {}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2], "crs": "x"}, "properties": {}},
    {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[1, 2]]}, "properties": {}},
    {"type": "Feature", "geometry": {"type": "Polygon"}, "properties": {}},
    {"type": "Feature", "geometry": {"type": "GeometryCollection", "geometries": [None]}, "properties": {}},
    {"type": "Feature", "geometry": None, "properties": {}, "links": [{"rel": "self"}]},
    {"type": "Feature", "geometry": None, "properties": {}, "links": [{"href": "x", "secret": "y"}]},
    {"type": "Feature", "geometry": None, "properties": {}, "links": {"href": "x"}},
    {"type": "FeatureCollection"},
    {"type": "FeatureCollection", "features": {}},
    {"type": "FeatureCollection", "features": [], "items": []},
    {"type": "FeatureCollection", "features": [], "numberMatched": "10"},
    {"type": "FeatureCollection", "features": [], "numberReturned": True},
    {"type": "FeatureCollection", "features": [], "timeStamp": 5},
    {"type": "FeatureCollection", "features": [], "next_cursor": 5},
    {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None}]},
    {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None, "properties": {}, "x": 1}]},
    {"type": "FeatureCollection", "features": ["not a feature"]},
    {"items": [], "next_cursor": None},  # a record page is another shape
    [],
    "FeatureCollection",
    None,
]


@pytest.mark.parametrize("document", FOREIGN)
def test_anything_not_understood_is_refused(document: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every refusal is a ValueError saying what it is
        mask(document, {"geometry", "secret", "objects"})
    with pytest.raises(ValueError):  # noqa: PT011
        check_document(document)


def test_every_geometry_type_is_understood() -> None:
    geometries = [
        {"type": "Point", "coordinates": [1, 2, 3]},
        {"type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]},
        {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
        {"type": "MultiLineString", "coordinates": [[[1, 2], [3, 4]]]},
        SQUARE,
        {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]], "bbox": [1, 2, 3, 4]},
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]},
        None,
    ]
    page = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": g, "properties": {}} for g in geometries],
    }
    masked = mask(page, {"geometry"})
    assert masked is not None
    assert [feature["geometry"] for feature in masked.document["features"]] == geometries


# --- property: against an independent oracle ---------------------------------------------------------------

NAMES = ["parcel_code", "division_code", "land_use", "area_m2", "active", "version", "note"]
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5000),
    st.sampled_from(["330106", "3301", "330212", "0701", "t", "", "x"]),
)
geometries = st.one_of(
    st.none(),
    st.just(SQUARE),
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, st.integers(70, 130), st.integers(10, 50)),
)


@st.composite
def features(draw: st.DrawFn) -> dict[str, Any]:
    properties = draw(st.dictionaries(st.sampled_from(NAMES), values, max_size=6))
    feature: dict[str, Any] = {"type": "Feature", "geometry": draw(geometries), "properties": properties}
    if draw(st.booleans()):
        feature["id"] = draw(st.one_of(st.text(max_size=3), st.integers(0, 9)))
    if feature["geometry"] is not None and draw(st.booleans()):
        feature["bbox"] = [1, 2, 3, 4]
    return feature


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return draw(features())
    page: dict[str, Any] = {"type": "FeatureCollection", "features": draw(st.lists(features(), max_size=5))}
    for name, strategy in (
        ("numberMatched", st.integers(0, 99)),
        ("numberReturned", st.integers(0, 99)),
        ("timeStamp", st.just("2025-06-01T00:00:00Z")),
        ("next_cursor", st.one_of(st.none(), st.just("c"))),
        ("bbox", st.just([0, 0, 1, 1])),
    ):
        if draw(st.booleans()):
            page[name] = draw(strategy)
    return page


scopes = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(NAMES),
        st.lists(st.sampled_from(["3", "33", "3301", "07", "t", "f", ""]), min_size=1, max_size=3),
        min_size=1,
        max_size=2,
    ),
)


def text_of(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def expected_feature(
    feature: dict[str, Any], granted: set[str], scope: dict[str, list[str]] | None
) -> dict[str, Any] | None:
    """The oracle, written out plainly: what one feature should become."""
    properties = feature["properties"]
    if scope:
        for name, prefixes in scope.items():
            if properties.get(name) is None:
                return None
            if not any(text_of(properties[name]).startswith(prefix) for prefix in prefixes):
                return None
    shown = {
        name: value
        for name, value in properties.items()
        if name in granted and name not in {"version", "created_at", "updated_at"}
    }
    result: dict[str, Any] = {"type": "Feature"}
    if "id" in feature and "parcel_code" in granted:
        result["id"] = feature["id"]
    geometry_shown = "geometry" in granted and feature["geometry"] is not None
    result["geometry"] = feature["geometry"] if geometry_shown else None
    result["properties"] = shown
    if geometry_shown and "bbox" in feature:
        result["bbox"] = feature["bbox"]
    return result


@settings(max_examples=400, deadline=None)
@given(documents(), st.sets(st.sampled_from([*NAMES, "geometry"])), scopes)
def test_masking_matches_the_oracle(
    document: dict[str, Any], granted: set[str], scope: dict[str, list[str]] | None
) -> None:
    before = copy.deepcopy(document)
    masked = mask(document, granted, scope, key="parcel_code")
    assert document == before
    if document["type"] == "Feature":
        expected = expected_feature(document, granted, scope)
        if expected is None:
            assert masked is None
            return
        assert masked is not None
        assert masked.document == expected
        returned = [expected]
    else:
        assert masked is not None
        returned = [
            found
            for feature in document["features"]
            if (found := expected_feature(feature, granted, scope)) is not None
        ]
        assert masked.document["features"] == returned
        if "numberReturned" in document:
            assert masked.document["numberReturned"] == len(returned)
        assert ("numberMatched" in masked.document) == ("numberMatched" in document and not scope)
        whole = len(returned) == len(document["features"]) and all(f["geometry"] is not None for f in returned)
        assert ("bbox" in masked.document) == ("bbox" in document and whole)
    # nothing outside the grant, ever
    for feature in returned:
        assert set(feature["properties"]) <= granted - METADATA_FIELDS
    expected_fields = {name for feature in returned for name in feature["properties"]} | (
        {"geometry"} if any(feature["geometry"] is not None for feature in returned) else set()
    )
    assert set(masked.fields) == expected_fields


@settings(max_examples=200, deadline=None)
@given(
    documents(),
    st.text(min_size=1, max_size=8).filter(
        lambda name: (
            name
            not in {
                "type",
                "id",
                "geometry",
                "properties",
                "bbox",
                "links",
                "features",
                "numberMatched",
                "numberReturned",
                "timeStamp",
                "next_cursor",
            }
        )
    ),
)
def test_a_foreign_member_anywhere_is_refused(document: dict[str, Any], name: str) -> None:
    target = document
    if document["type"] == "FeatureCollection" and document["features"]:
        target = document["features"][-1]
    target[name] = "hidden"
    with pytest.raises(ValueError, match="foreign members"):
        mask(document, {"geometry", name})
