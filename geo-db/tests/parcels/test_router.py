"""Parcels through the API: GeoJSON in and out, PostGIS's validity and geodesic area, versions, events, queries."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pyproj import Geod

from onesource.geo.coordinates import to_gcj02

PARCELS = "/v1/parcels"
CODE = "330106001002GB00001"
#: About 96 m by 111 m in Hangzhou's 西湖区.
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[120.100, 30.270], [120.101, 30.270], [120.101, 30.271], [120.100, 30.271], [120.100, 30.270]]],
}
#: The same parcel given clockwise (RFC 7946 receivers must not refuse it); stored and answered counterclockwise.
SQUARE_CLOCKWISE = {"type": "Polygon", "coordinates": [list(reversed(SQUARE["coordinates"][0]))]}
#: CGCS2000's ellipsoid is GRS 80's (a = 6378137 m, 1/f = 298.257222101): the independent oracle of areas.
CGCS2000 = Geod(ellps="GRS80")


def geodesic_area(ring: list[list[float]]) -> float:
    longitudes, latitudes = zip(*ring, strict=True)
    area, _ = CGCS2000.polygon_area_perimeter(longitudes, latitudes)
    return abs(area)


def feature(code: str = CODE, geometry: dict[str, Any] | None = None, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": geometry or SQUARE,
        "properties": {"parcel_code": code, "land_use": "0701", "location_description": "文三路90号", **properties},
    }


async def register(client, registrar, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await client.post(PARCELS, json=body or feature(), headers=registrar)
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


async def test_a_registered_parcel_is_a_feature_with_its_ellipsoidal_area(client, registrar, events) -> None:
    response = await client.post(PARCELS, json=feature(), headers=registrar)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/geo+json"
    assert response.headers["location"] == f"{PARCELS}/{CODE}"
    assert response.headers["etag"] == '"1"', "the answer's version, as reads give it"
    parcel = response.json()
    assert parcel["type"] == "Feature"
    assert parcel["id"] == CODE
    assert parcel["geometry"] == SQUARE
    properties = parcel["properties"]
    assert properties["division_code"] == "330106"
    assert properties["land_use_name"] == "城镇住宅用地"
    assert properties["status"] == "active"
    assert properties["version"] == 1
    assert properties["area_m2"] == pytest.approx(geodesic_area(SQUARE["coordinates"][0]), abs=0.01)
    assert 10_000 < properties["area_m2"] < 11_000

    read = await client.get(f"{PARCELS}/{CODE}", headers=registrar)
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == parcel

    [event] = await events(CODE)
    assert event["type"] == "gov.onesource.geo.parcel.registered.v1"
    assert event["subject"] == CODE
    record = event["data"]["record"]
    assert record["geometry"] == SQUARE, "events carry the geometry as GeoJSON, beside the flat properties"
    expected = {
        name: value for name, value in properties.items() if name not in {"version", "created_at", "updated_at"}
    }
    assert {name: value for name, value in record.items() if name != "geometry"} == expected


@pytest.mark.parametrize(
    ("ring", "where"),
    [
        # a long thin triangle near the equator's edge of the box, a quadrilateral in Heilongjiang, a large one
        ([[110.0, 18.3], [110.2, 18.3], [110.1, 18.5], [110.0, 18.3]], "海南"),
        ([[126.5, 45.7], [126.7, 45.72], [126.68, 45.9], [126.52, 45.85], [126.5, 45.7]], "哈尔滨"),
        ([[100.0, 30.0], [101.0, 30.0], [101.0, 31.0], [100.0, 31.0], [100.0, 30.0]], "四川 1°×1°"),
    ],
)
async def test_areas_agree_with_an_independent_geodesic_computation(client, registrar, ring, where) -> None:
    parcel = await register(client, registrar, feature(geometry={"type": "Polygon", "coordinates": [ring]}))
    expected = geodesic_area(ring)
    assert parcel["properties"]["area_m2"] == pytest.approx(expected, rel=1e-7, abs=0.01), where


async def test_a_hole_is_not_part_of_the_area_and_a_multipolygon_adds_its_parts(client, registrar) -> None:
    outer = [[120.100, 30.270], [120.102, 30.270], [120.102, 30.272], [120.100, 30.272], [120.100, 30.270]]
    hole = [[120.1005, 30.2705], [120.1005, 30.2715], [120.1015, 30.2715], [120.1015, 30.2705], [120.1005, 30.2705]]
    holed = await register(client, registrar, feature(geometry={"type": "Polygon", "coordinates": [outer, hole]}))
    assert holed["properties"]["area_m2"] == pytest.approx(geodesic_area(outer) - geodesic_area(hole), abs=0.02)
    second = [[[x + 0.01, y] for x, y in SQUARE["coordinates"][0]]]
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"], second]}
    both = await register(client, registrar, feature("330106001002GB00002", geometry=multi))
    assert both["geometry"]["type"] == "MultiPolygon"
    expected = geodesic_area(SQUARE["coordinates"][0]) + geodesic_area(second[0])
    assert both["properties"]["area_m2"] == pytest.approx(expected, abs=0.02)


async def test_a_clockwise_ring_is_accepted_and_answered_counterclockwise(client, registrar) -> None:
    parcel = await register(client, registrar, feature(geometry=SQUARE_CLOCKWISE))
    assert parcel["geometry"] == SQUARE


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[120.100, 30.270], [120.101, 30.271], [120.101, 30.270], [120.100, 30.271], [120.100, 30.270]]],
}


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        (BOWTIE, "Self-intersection"),
        (
            {"type": "Polygon", "coordinates": [SQUARE["coordinates"][0][:-1]]},
            "is not closed",
        ),
        (
            {"type": "Polygon", "coordinates": [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.85]]]},
            "outside China's extent",
        ),
        ({"type": "Point", "coordinates": [120.1, 30.27]}, "wrong geometry type 'Point'"),
        ({"type": "LineString", "coordinates": [[120.1, 30.27], [120.2, 30.3]]}, "wrong geometry type"),
        ({"type": "Polygon", "coordinates": [[[120.1, 30.27], [120.2, 30.27], [120.1, 30.27]]]}, "at least four"),
        (
            {"type": "Polygon", "coordinates": [[[120.1, 30.27], ["x", 30.27], [120.1, 30.3], [120.1, 30.27]]]},
            "two numbers",
        ),
        ({"type": "Polygon"}, "no coordinates"),
        (
            {"type": "Polygon", "coordinates": [[[120.1, 30.27], [120.2, 30.27], [120.3, 30.27], [120.1, 30.27]]]},
            "invalid polygon",
        ),
    ],
)
async def test_invalid_geometry_is_a_422_naming_the_problem(client, registrar, events, geometry, reason) -> None:
    response = await client.post(PARCELS, json=feature(geometry=geometry), headers=registrar)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("/invalid-parcel")
    assert {param["name"] for param in problem["invalid_params"]} == {"body.geometry"}
    assert reason in problem["invalid_params"][0]["reason"]
    assert await events(CODE) == []


async def test_the_self_intersection_is_located(client, registrar) -> None:
    response = await client.post(PARCELS, json=feature(geometry=BOWTIE), headers=registrar)
    assert "POINT(120.1005 30.2705)" in response.json()["detail"]


@pytest.mark.parametrize(
    ("properties", "field", "reason"),
    [
        ({"land_use": "0799"}, "land_use", "not a GB/T 21010-2017"),
        ({"land_use": "07"}, None, None),  # the schema wants four digits
        ({"parcel_code": "330103001002GB00001"}, "parcel_code", "abolished"),  # 下城区, gone since 2021
        ({"parcel_code": "330100001002GB00001"}, "parcel_code", "prefecture-level"),
        ({"parcel_code": "330106001002QB00001"}, "parcel_code", "ownership letter"),
        ({"parcel_code": "330106001002GQ00001"}, "parcel_code", "kind letter"),
    ],
)
async def test_invalid_properties_are_422_naming_the_field(client, registrar, properties, field, reason) -> None:
    response = await client.post(PARCELS, json=feature(**properties), headers=registrar)
    assert response.status_code == 422, response.text
    if field is not None:
        [param] = response.json()["invalid_params"]
        assert param["name"] == f"body.properties.{field}"
        assert reason in param["reason"]


async def test_duplicate_registration_is_409(client, registrar) -> None:
    await register(client, registrar)
    again = await client.post(PARCELS, json=feature(), headers=registrar)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/duplicate-parcel")


async def test_a_new_boundary_needs_if_match_and_brings_its_new_area(client, registrar, events) -> None:
    await register(client, registrar)
    url = f"{PARCELS}/{CODE}"
    bigger = copy.deepcopy(SQUARE)
    bigger["coordinates"][0][1][0] = bigger["coordinates"][0][2][0] = 120.102
    patch = {"geometry": bigger, "properties": {"land_use": "0702"}}
    assert (await client.patch(url, json=patch, headers=registrar)).status_code == 428
    assert (await client.patch(url, json=patch, headers={**registrar, "If-Match": '"7"'})).status_code == 412
    changed = await client.patch(url, json=patch, headers={**registrar, "If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    properties = changed.json()["properties"]
    assert properties["land_use"] == "0702"
    assert properties["area_m2"] == pytest.approx(geodesic_area(bigger["coordinates"][0]), abs=0.01)
    _, updated = await events(CODE)
    assert updated["type"] == "gov.onesource.geo.parcel.updated.v1"
    assert set(updated["data"]["changes"]) == {"geometry", "area_m2", "land_use"}
    assert updated["data"]["changes"]["geometry"] == bigger

    invalid = await client.patch(url, json={"geometry": BOWTIE}, headers={**registrar, "If-Match": '"2"'})
    assert invalid.status_code == 422
    assert len(await events(CODE)) == 2


async def test_retirement_ends_changes_and_history_keeps_every_version(
    client, registrar, owner_consumer, events
) -> None:
    await register(client, registrar)
    url = f"{PARCELS}/{CODE}"
    future = await client.post(f"{url}/retirement", json={"retired_on": "2030-01-01", "reason": "x"}, headers=registrar)
    assert future.status_code == 422
    retired = await client.post(
        f"{url}/retirement", json={"retired_on": "2025-05-01", "reason": "宗地合并"}, headers=registrar
    )
    assert retired.status_code == 200, retired.text
    assert retired.json()["properties"]["status"] == "retired"
    again = await client.post(f"{url}/retirement", json={"retired_on": "2025-05-01", "reason": "x"}, headers=registrar)
    assert again.status_code == 409
    patched = await client.patch(
        url, json={"properties": {"land_use": "0702"}}, headers={**registrar, "If-Match": '"2"'}
    )
    assert patched.status_code == 409
    assert patched.json()["type"].endswith("/parcel-retired")
    history = (await client.get(f"{url}/history", headers=owner_consumer)).json()["items"]
    assert [version["change"] for version in history] == ["registered", "retired"]
    assert history[0]["record"]["geometry"] == SQUARE
    assert history[1]["record"]["status"] == "retired"
    assert [event["type"].split(".")[-2] for event in await events(CODE)] == ["registered", "retired"]
    # a retired parcel no longer answers spatial queries, unless asked for
    inside = {"contains": "120.1005,30.2705"}
    assert (await client.get(PARCELS, params=inside, headers=registrar)).json()["features"] == []
    both = await client.get(PARCELS, params={**inside, "include_retired": "true"}, headers=registrar)
    assert [found["id"] for found in both.json()["features"]] == [CODE]


async def test_point_in_parcel_and_bounding_box(client, registrar) -> None:
    await register(client, registrar)
    east = {"type": "Polygon", "coordinates": [[[x + 0.001, y] for x, y in SQUARE["coordinates"][0]]]}
    await register(client, registrar, feature("330106001002GB00002", geometry=east))

    async def ids(**params: str) -> list[str]:
        response = await client.get(PARCELS, params=params, headers=registrar)
        assert response.status_code == 200, response.text
        assert response.json()["type"] == "FeatureCollection"
        return [found["id"] for found in response.json()["features"]]

    assert await ids(contains="120.1005,30.2705") == [CODE]
    assert await ids(contains="120.1015,30.2705") == ["330106001002GB00002"]
    assert await ids(contains="120.101,30.2705") == [CODE, "330106001002GB00002"], "the shared edge is in both"
    assert await ids(contains="120.2,30.2") == []
    assert await ids(bbox="120.0995,30.2695,120.1003,30.2703") == [CODE]
    assert await ids(bbox="120.0,30.0,121.0,31.0") == [CODE, "330106001002GB00002"]
    assert await ids(bbox="120.0,30.0,121.0,31.0", land_use="07") == [CODE, "330106001002GB00002"]
    assert await ids(division_code="3301") == [CODE, "330106001002GB00002"]
    assert await ids(division_code="3302") == []
    assert await ids(contains="120.1005,30.2705", land_use="08") == []
    assert await ids(contains="120.101,30.2705", division_code="330106", land_use="0701") == [
        CODE,
        "330106001002GB00002",
    ]
    first = await client.get(PARCELS, params={"bbox": "120.0,30.0,121.0,31.0", "limit": 1}, headers=registrar)
    cursor = first.json()["next_cursor"]
    assert [found["id"] for found in first.json()["features"]] == [CODE]
    rest = await client.get(
        PARCELS, params={"bbox": "120.0,30.0,121.0,31.0", "limit": 1, "cursor": cursor}, headers=registrar
    )
    assert [found["id"] for found in rest.json()["features"]] == ["330106001002GB00002"]
    assert rest.json()["next_cursor"] is None
    for foreign in ("WzEuNSwiYSJd", "bm90IGpzb24", "WzFd"):  # [1.5,"a"] (a nearby cursor), not JSON, [1]
        refused = await client.get(
            PARCELS, params={"bbox": "120.0,30.0,121.0,31.0", "cursor": foreign}, headers=registrar
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"].endswith("/invalid-cursor")


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"contains": "120.1"}, "query.contains"),
        ({"contains": "a,b"}, "query.contains"),
        ({"contains": "nan,30"}, "query.contains"),
        ({"bbox": "121,30,120,31"}, "query.bbox"),
        ({"bbox": "1,2,3"}, "query.bbox"),
        ({"crs": "wgs84"}, "query.crs"),
    ],
)
async def test_malformed_queries_are_422(client, registrar, params, name) -> None:
    response = await client.get(PARCELS, params=params, headers=registrar)
    assert response.status_code == 422
    assert name in [param["name"] for param in response.json()["invalid_params"]]


async def test_gcj02_moves_every_position_for_display(client, registrar) -> None:
    await register(client, registrar)
    shown = await client.get(f"{PARCELS}/{CODE}", params={"crs": "gcj02"}, headers=registrar)
    ring = shown.json()["geometry"]["coordinates"][0]
    assert ring == [list(to_gcj02(x, y)) for x, y in SQUARE["coordinates"][0]]
    assert ring[0] != SQUARE["coordinates"][0][0]
    listed = await client.get(PARCELS, params={"contains": "120.1005,30.2705", "crs": "gcj02"}, headers=registrar)
    assert listed.json()["features"][0]["geometry"]["coordinates"][0] == ring


async def test_only_the_owner_and_the_gateway_read_and_only_registrars_write(
    client, registrar, owner_consumer, foreign_consumer, foreign_registrar, gateway
) -> None:
    await register(client, registrar)
    assert (await client.get(f"{PARCELS}/{CODE}", headers=gateway)).status_code == 200
    assert (await client.get(f"{PARCELS}/{CODE}", headers=owner_consumer)).status_code == 200
    for outsider in (foreign_consumer, foreign_registrar):
        assert (await client.get(f"{PARCELS}/{CODE}", headers=outsider)).status_code == 403
        assert (await client.get(PARCELS, headers=outsider)).status_code == 403
    for writer in (owner_consumer, foreign_registrar, gateway):
        assert (await client.post(PARCELS, json=feature("330106001002GB00009"), headers=writer)).status_code == 403
    assert (await client.get(f"{PARCELS}/{CODE}/history", headers=gateway)).status_code == 403
    assert (await client.get(f"{PARCELS}/{CODE}")).status_code == 401


async def test_an_idempotency_key_replays_the_first_registration(client, registrar, events) -> None:
    headers = {**registrar, "Idempotency-Key": "parcel-1"}
    first = await client.post(PARCELS, json=feature(), headers=headers)
    again = await client.post(PARCELS, json=feature(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"] == '"1"'
    assert len(await events(CODE)) == 1


async def test_a_missing_parcel_is_404(client, registrar) -> None:
    response = await client.get(f"{PARCELS}/330106001002GB09999", headers=registrar)
    assert response.status_code == 404
    assert response.json()["type"].endswith("/parcel-not-found")
