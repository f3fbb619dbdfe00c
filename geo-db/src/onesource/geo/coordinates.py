"""GCJ-02 (国测局坐标, "Mars coordinates") for display on Chinese web maps: the public transform, pure.

Chinese web maps draw in GCJ-02, an obfuscated datum that every published map service inside China uses. The
registry stores CGCS2000 (EPSG:4490), which for display at map scale coincides with WGS 84; ``?crs=gcj02`` answers
the coordinates moved by the standard public transform (the one reproduced by eviltransform and every map SDK):
Krasovsky 1940 ellipsoid (a = 6378245.0, e² = 0.00669342162296594323) and the well-known offset series, applied
only inside China's rough box (longitude 72.004–137.8347, latitude 0.8293–55.8271); outside it unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

#: Krasovsky 1940, the ellipsoid of the transform.
SEMI_MAJOR_AXIS: Final = 6378245.0
ECCENTRICITY_SQUARED: Final = 0.00669342162296594323
#: China's box: outside it the transform leaves coordinates as they are.
MIN_LONGITUDE: Final = 72.004
MAX_LONGITUDE: Final = 137.8347
MIN_LATITUDE: Final = 0.8293
MAX_LATITUDE: Final = 55.8271


def in_china_box(longitude: float, latitude: float) -> bool:
    """Whether the point lies in the box where GCJ-02 differs from WGS 84 / CGCS2000."""
    return MIN_LONGITUDE <= longitude <= MAX_LONGITUDE and MIN_LATITUDE <= latitude <= MAX_LATITUDE


def _latitude_offset(x: float, y: float) -> float:
    offset = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    offset += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    offset += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    offset += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return offset


def _longitude_offset(x: float, y: float) -> float:
    offset = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    offset += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    offset += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    offset += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return offset


def to_gcj02(longitude: float, latitude: float) -> tuple[float, float]:
    """The GCJ-02 position (longitude, latitude) of a WGS 84 / CGCS2000 one; unchanged outside China's box."""
    if not in_china_box(longitude, latitude):
        return longitude, latitude
    x, y = longitude - 105.0, latitude - 35.0
    radians = latitude / 180.0 * math.pi
    magic = 1 - ECCENTRICITY_SQUARED * math.sin(radians) ** 2
    root = math.sqrt(magic)
    d_latitude = (_latitude_offset(x, y) * 180.0) / (
        (SEMI_MAJOR_AXIS * (1 - ECCENTRICITY_SQUARED)) / (magic * root) * math.pi
    )
    d_longitude = (_longitude_offset(x, y) * 180.0) / (SEMI_MAJOR_AXIS / root * math.cos(radians) * math.pi)
    return longitude + d_longitude, latitude + d_latitude


def _positions(coordinates: Any, move: Callable[[float, float], tuple[float, float]]) -> Any:
    """``coordinates`` (a position or nested lists of them) with every position moved."""
    if coordinates and isinstance(coordinates[0], int | float):
        longitude, latitude = move(float(coordinates[0]), float(coordinates[1]))
        return [longitude, latitude, *coordinates[2:]]
    return [_positions(part, move) for part in coordinates]


def geometry_to_gcj02(geometry: dict[str, Any] | None) -> dict[str, Any] | None:
    """A GeoJSON geometry (RFC 7946) with every position moved to GCJ-02."""
    if geometry is None:
        return None
    if geometry["type"] == "GeometryCollection":
        return {**geometry, "geometries": [geometry_to_gcj02(part) for part in geometry["geometries"]]}
    return {**geometry, "coordinates": _positions(geometry["coordinates"], to_gcj02)}
