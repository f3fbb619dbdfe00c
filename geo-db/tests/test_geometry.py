"""The document rules of geometries (pure): type, positions, closed rings, China's extent."""

from __future__ import annotations

import pytest
import shapely
import shapely.geometry

from onesource.geo.geometry import SRID, area_problems, point_problems, to_element, to_geojson

RING = [[120.1, 30.27], [120.101, 30.27], [120.101, 30.271], [120.1, 30.27]]


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        ({"type": "Polygon", "coordinates": [RING]}, None),
        ({"type": "MultiPolygon", "coordinates": [[RING], [RING]]}, None),
        ({"type": "Polygon", "coordinates": [[*RING[:-1], [120.1, 30.2701]]]}, "is not closed"),
        ({"type": "Polygon", "coordinates": [[[73.0, 40.0], [71.9, 40.0], [73.0, 41.0], [73.0, 40.0]]]}, "outside"),
        ({"type": "Polygon", "coordinates": [[[120.1, 56.0], [120.2, 56.0], [120.2, 56.1], [120.1, 56.0]]]}, "outside"),
        ({"type": "Polygon", "coordinates": []}, "list of linear rings"),
        ({"type": "MultiPolygon", "coordinates": []}, "list of polygons"),
        (
            {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.2, True], [120.1, 30.3], [120.1, 30.2]]]},
            "two numbers",
        ),
        ({"type": "Point", "coordinates": [120.1, 30.2]}, "wrong geometry type"),
        ([1, 2], "GeoJSON geometry object"),
    ],
)
def test_area_rules(geometry: object, reason: str | None) -> None:
    problems = area_problems(geometry)
    if reason is None:
        assert problems == []
    else:
        assert problems
        assert all(problem.field == "geometry" for problem in problems)
        assert reason in problems[0].reason


def test_too_many_positions_are_refused() -> None:
    ring = [[120.0 + i * 1e-6, 30.0 + (i % 2) * 1e-6] for i in range(10_001)] + [[120.0, 30.0]]
    assert "more than" in area_problems({"type": "Polygon", "coordinates": [ring]})[0].reason


@pytest.mark.parametrize(
    ("geometry", "ok"),
    [
        ({"type": "Point", "coordinates": [116.4, 39.9]}, True),
        ({"type": "Point", "coordinates": [116.4, float("nan")]}, False),
        ({"type": "Point", "coordinates": [137.9, 39.9]}, False),
        ({"type": "Point", "coordinates": [116.4, 0.5]}, False),
    ],
)
def test_point_rules(geometry: object, ok: bool) -> None:
    assert (point_problems(geometry) == []) is ok


def test_geojson_and_wkb_round_trip_exactly() -> None:
    for geometry in (
        {"type": "Point", "coordinates": [116.123456789012, 39.987654321098]},
        {"type": "Polygon", "coordinates": [RING]},
        {"type": "MultiPolygon", "coordinates": [[RING], [RING]]},
    ):
        element = to_element(geometry)
        assert element.srid == 4490
        assert to_geojson(element) == geometry


@pytest.mark.parametrize("srid", [None, SRID])
@pytest.mark.parametrize("byte_order", ["little", "big"])
def test_points_read_from_wkb_equal_shapelys_reading(srid: int | None, byte_order: str) -> None:
    for longitude, latitude in [(116.397026, 39.918058), (120.1 + 1e-12, 30.2700000001), (73.5, 53.56)]:
        point = shapely.Point(longitude, latitude)
        if srid is not None:
            point = shapely.set_srid(point, srid)
        data = shapely.to_wkb(point, include_srid=srid is not None, byte_order=0 if byte_order == "big" else 1)
        expected = shapely.geometry.mapping(shapely.from_wkb(data))
        assert to_geojson(data) == {"type": "Point", "coordinates": list(expected["coordinates"])}
        assert to_geojson(data)["coordinates"] == [longitude, latitude]
