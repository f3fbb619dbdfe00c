"""GCJ-02 against the published test vectors of the public transform (eviltransform's, reproduced by every port)."""

from __future__ import annotations

import pytest

from onesource.geo.coordinates import geometry_to_gcj02, in_china_box, to_gcj02

#: (WGS 84 latitude, longitude) → (GCJ-02 latitude, longitude): googollee/eviltransform's test fixture
#: (Shanghai, Shenzhen, Beijing), the same in its Go, Python, C#, Haskell and Ruby tests.
VECTORS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
]


@pytest.mark.parametrize(("wgs", "gcj"), VECTORS)
def test_published_vectors(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    longitude, latitude = to_gcj02(wgs[1], wgs[0])
    assert latitude == pytest.approx(gcj[0], abs=1e-9)
    assert longitude == pytest.approx(gcj[1], abs=1e-9)


@pytest.mark.parametrize(
    "position",
    [(-104.9903, 39.7392), (153.0251, -27.4698), (-43.1729, -22.9068), (139.767125, 35.681236), (-16.1776, 64.0464)],
)
def test_outside_chinas_box_positions_are_unchanged(position: tuple[float, float]) -> None:
    # Denver, Brisbane, Rio de Janeiro (eviltransform's MATLAB edge cases), Tokyo, Iceland
    assert not in_china_box(*position)
    assert to_gcj02(*position) == position


def test_the_offset_inside_china_is_hundreds_of_metres() -> None:
    longitude, latitude = to_gcj02(116.391226, 39.907333)  # 天安门
    assert 0.002 < longitude - 116.391226 < 0.009
    assert 0.001 < latitude - 39.907333 < 0.008


def test_a_geometry_is_moved_position_by_position_keeping_its_shape() -> None:
    polygon = {"type": "Polygon", "coordinates": [[[121.5, 31.2], [121.6, 31.2], [121.6, 31.3], [121.5, 31.2]]]}
    moved = geometry_to_gcj02(polygon)
    assert moved is not None
    assert moved["coordinates"] == [[list(to_gcj02(x, y)) for x, y in polygon["coordinates"][0]]]
    assert polygon["coordinates"][0][0] == [121.5, 31.2], "the input is not changed"
    assert geometry_to_gcj02(None) is None
    assert geometry_to_gcj02({"type": "Point", "coordinates": [121.5272106, 31.1774276]}) == {
        "type": "Point",
        "coordinates": list(to_gcj02(121.5272106, 31.1774276)),
    }
