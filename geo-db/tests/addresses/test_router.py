"""Addresses through the API: GB/T 23705 levels, a point, nearby in metres ordered by distance, lifecycle."""

from __future__ import annotations

import math
from typing import Any

import pytest

ADDRESSES = "/v1/addresses"
CODE = "110101001001000107"
POINT = {"type": "Point", "coordinates": [116.417, 39.9365]}
#: The sphere PostGIS's geography ``<->`` measures on (mean radius of the WGS 84 / GRS 80 ellipsoid).
MEAN_RADIUS_M = 6371008.7714


def great_circle_m(a: list[float], b: list[float]) -> float:
    """Haversine distance on the mean sphere: the independent oracle of ``near``."""
    (lon1, lat1), (lon2, lat2) = (map(math.radians, point) for point in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * MEAN_RADIUS_M * math.asin(math.sqrt(h))


def feature(code: str = CODE, geometry: dict[str, Any] | None = None, **properties: Any) -> dict[str, Any]:
    levels = {
        "address_code": code,
        "town": "北新桥街道",
        "community": "民安社区",
        "road": "东四北大街",
        "door_number": "107号",
        "building": "3号楼",
        "unit": "2单元",
        "room": "501室",
    }
    return {"type": "Feature", "geometry": geometry or POINT, "properties": {**levels, **properties}}


async def register(client, registrar, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await client.post(ADDRESSES, json=body or feature(), headers=registrar)
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"', "the answer's version, as reads give it"
    registered: dict[str, Any] = response.json()
    return registered


async def test_a_registered_address_spells_its_whole_address_and_keeps_its_point(client, registrar, events) -> None:
    address = await register(client, registrar)
    assert address["id"] == CODE
    assert address["geometry"] == POINT
    properties = address["properties"]
    assert properties["division_code"] == "110101"
    assert properties["full_address"] == "北京市东城区北新桥街道民安社区东四北大街107号3号楼2单元501室"
    read = await client.get(f"{ADDRESSES}/{CODE}", headers=registrar)
    assert read.headers["etag"] == '"1"'
    assert read.json() == address
    [event] = await events(CODE)
    assert event["type"] == "gov.onesource.geo.address.registered.v1"
    assert event["data"]["record"]["geometry"] == POINT
    assert event["data"]["record"]["full_address"] == properties["full_address"]


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"building": None, "unit": "2单元", "room": None}, "unit", "needs building"),
        ({"unit": None, "building": None}, "room", "needs unit or building"),
        ({"road": None, "community": None}, "door_number", "needs road or community"),
        ({"address_code": "110103001001000107"}, "address_code", "abolished"),  # 崇文区, merged into 东城区 in 2010
        ({"address_code": "110101000001000107"}, "address_code", "town part"),
    ],
)
async def test_levels_need_the_levels_above_them(client, registrar, changes, field, reason) -> None:
    response = await client.post(ADDRESSES, json=feature(**changes), headers=registrar)
    assert response.status_code == 422, response.text
    names = {param["name"]: param["reason"] for param in response.json()["invalid_params"]}
    assert reason in names[f"body.properties.{field}"]


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        (
            {"type": "Polygon", "coordinates": [[[116.4, 39.9], [116.5, 39.9], [116.5, 40.0], [116.4, 39.9]]]},
            "wrong geometry type",
        ),
        ({"type": "Point", "coordinates": [-74.0, 40.7]}, "outside China's extent"),
        ({"type": "Point", "coordinates": [116.4]}, "position"),
        ({"type": "Point", "coordinates": [116.4, 39.9, 50.0]}, "position"),
        ({"type": "Point", "coordinates": [116.4, 39.9], "crs": "EPSG:4326"}, "members"),
    ],
)
async def test_a_wrong_point_is_a_422_naming_the_problem(client, registrar, geometry, reason) -> None:
    response = await client.post(ADDRESSES, json=feature(geometry=geometry), headers=registrar)
    assert response.status_code == 422, response.text
    [param] = response.json()["invalid_params"]
    assert param["name"] == "body.geometry"
    assert reason in param["reason"]


async def test_nearby_addresses_come_nearest_first_with_their_distance(client, registrar) -> None:
    centre = [116.417, 39.9365]
    # east at about 43, 85, 171 and 855 m; north at about 111 m; one far away
    offsets = {
        "000201": (0.0005, 0),
        "000202": (0.001, 0),
        "000203": (0.002, 0),
        "000204": (0.01, 0),
        "000205": (0, 0.001),
    }
    for suffix, (dx, dy) in offsets.items():
        point = {"type": "Point", "coordinates": [centre[0] + dx, centre[1] + dy]}
        await register(client, registrar, feature(f"110101001001{suffix}", geometry=point))
    await register(
        client, registrar, feature("110101001001000299", geometry={"type": "Point", "coordinates": [116.5, 40.0]})
    )
    response = await client.get(ADDRESSES, params={"near": "116.417,39.9365", "radius": 300}, headers=registrar)
    assert response.status_code == 200, response.text
    features = response.json()["features"]
    assert [found["id"][-6:] for found in features] == ["000201", "000202", "000205", "000203"]
    for found in features:
        expected = great_circle_m(centre, found["geometry"]["coordinates"])
        assert found["properties"]["distance_m"] == pytest.approx(expected, abs=0.01)
    distances = [found["properties"]["distance_m"] for found in features]
    assert distances == sorted(distances)
    for found in features:  # a list's features are the records as a read of each answers them
        read = (await client.get(f"{ADDRESSES}/{found['id']}", headers=registrar)).json()
        assert {**found, "properties": {**found["properties"], "distance_m": None}} == read
    assert all(distance <= 300 for distance in distances)

    page = await client.get(ADDRESSES, params={"near": "116.417,39.9365", "radius": 300, "limit": 2}, headers=registrar)
    assert [found["id"][-6:] for found in page.json()["features"]] == ["000201", "000202"]
    rest = await client.get(
        ADDRESSES,
        params={"near": "116.417,39.9365", "radius": 300, "limit": 2, "cursor": page.json()["next_cursor"]},
        headers=registrar,
    )
    assert [found["id"][-6:] for found in rest.json()["features"]] == ["000205", "000203"]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"near": "116.4,39.9"}, "query.radius"),
        ({"radius": "100"}, "query.radius"),
        ({"near": "116.4,39.9", "radius": "0"}, "query.radius"),
        ({"near": "116.4,39.9", "radius": "100000"}, "query.radius"),
        ({"near": "116.4,39.9", "radius": "100", "bbox": "116,39,117,40"}, "query.bbox"),
        ({"near": "200,39.9", "radius": "100"}, "query.near"),
    ],
)
async def test_malformed_nearby_queries_are_422(client, registrar, params, name) -> None:
    response = await client.get(ADDRESSES, params=params, headers=registrar)
    assert response.status_code == 422, response.text
    assert name in [param["name"] for param in response.json()["invalid_params"]]


async def test_a_change_respells_the_address_and_retirement_ends_changes(
    client, registrar, owner_consumer, events
) -> None:
    await register(client, registrar)
    url = f"{ADDRESSES}/{CODE}"
    patch = {"properties": {"room": "502室"}, "geometry": {"type": "Point", "coordinates": [116.4171, 39.9366]}}
    changed = await client.patch(url, json=patch, headers={**registrar, "If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["properties"]["full_address"].endswith("2单元502室")
    assert changed.json()["geometry"]["coordinates"] == [116.4171, 39.9366]
    cleared = await client.patch(
        url, json={"properties": {"door_number": None}}, headers={**registrar, "If-Match": '"2"'}
    )
    assert cleared.status_code == 422
    orphan = await client.patch(url, json={"properties": {"building": None}}, headers={**registrar, "If-Match": '"2"'})
    assert orphan.status_code == 422
    assert "needs building" in orphan.text
    retired = await client.post(
        f"{url}/retirement", json={"retired_on": "2025-05-01", "reason": "门牌整顿"}, headers=registrar
    )
    assert retired.status_code == 200
    again = await client.patch(url, json={"properties": {"room": "503室"}}, headers={**registrar, "If-Match": '"3"'})
    assert again.status_code == 409
    history = (await client.get(f"{url}/history", headers=owner_consumer)).json()["items"]
    assert [version["change"] for version in history] == ["registered", "updated", "retired"]
    assert history[1]["changes"]["room"] == "502室"
    assert set(history[1]["changes"]) == {"room", "full_address", "geometry"}
    kinds = [event["type"].split(".")[-2] for event in await events(CODE)]
    assert kinds == ["registered", "updated", "retired"]
    near = await client.get(ADDRESSES, params={"near": "116.4171,39.9366", "radius": 10}, headers=registrar)
    assert near.json()["features"] == []


async def test_bounding_box_and_division(client, registrar) -> None:
    await register(client, registrar)
    found = await client.get(ADDRESSES, params={"bbox": "116.41,39.93,116.42,39.94"}, headers=registrar)
    assert [item["id"] for item in found.json()["features"]] == [CODE]
    assert (await client.get(ADDRESSES, params={"bbox": "116.0,39.0,116.1,39.1"}, headers=registrar)).json()[
        "features"
    ] == []
    assert [
        item["id"]
        for item in (await client.get(ADDRESSES, params={"division_code": "1101"}, headers=registrar)).json()[
            "features"
        ]
    ] == [CODE]


async def test_others_read_through_the_gateway(client, registrar, foreign_consumer, gateway) -> None:
    await register(client, registrar)
    assert (await client.get(f"{ADDRESSES}/{CODE}", headers=gateway)).status_code == 200
    assert (await client.get(f"{ADDRESSES}/{CODE}", headers=foreign_consumer)).status_code == 403
    assert (await client.post(ADDRESSES, json=feature("110101001001000108"), headers=gateway)).status_code == 403
