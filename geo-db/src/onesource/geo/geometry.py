"""Geometries in and out: GeoJSON (RFC 7946) at the API, CGCS2000 (EPSG:4490) longitude/latitude in PostGIS.

The rules here are about the document a registrar sends — right type, numbers, closed rings, inside China's extent —
and are pure. Whether a polygon is valid as a shape (no self-intersection, holes inside, …) and how large it is on
the ellipsoid are PostGIS's answers (``parcels.repository.inspect_boundary``), never computed here. Shapely only
converts between GeoJSON and the WKB that PostGIS reads and writes.
"""

from __future__ import annotations

import math
import struct
from typing import Any, Final

import shapely
from geoalchemy2 import WKBElement
from shapely.geometry import mapping, shape

from onesource.geo.coordinates import MAX_LATITUDE, MAX_LONGITUDE, MIN_LATITUDE, MIN_LONGITUDE
from onesource.geo.rules import FieldProblem

#: CGCS2000 geographic 2D (longitude, latitude in degrees), the datum of every stored geometry.
SRID: Final = 4490
#: A registrar's polygon has at most this many positions (a parcel boundary, not a coastline).
MAX_POSITIONS: Final = 10_000
EXTENT: Final = f"China's extent (longitude {MIN_LONGITUDE}–{MAX_LONGITUDE}, latitude {MIN_LATITUDE}–{MAX_LATITUDE})"


def _position_problem(position: Any, where: str) -> str | None:
    if not isinstance(position, list) or len(position) != 2:
        return f"{where} must be a position [longitude, latitude]"
    if not all(isinstance(number, int | float) and not isinstance(number, bool) for number in position):
        return f"{where} must hold two numbers"
    longitude, latitude = position
    if not (math.isfinite(longitude) and math.isfinite(latitude)):
        return f"{where} must hold finite numbers"
    if not (MIN_LONGITUDE <= longitude <= MAX_LONGITUDE and MIN_LATITUDE <= latitude <= MAX_LATITUDE):
        return f"{where} {position} lies outside {EXTENT}"
    return None


def _ring_problems(ring: Any, where: str) -> list[str]:
    if not isinstance(ring, list) or len(ring) < 4:
        return [f"{where} must be a closed ring of at least four positions (RFC 7946 §3.1.6)"]
    found = [
        reason for index, position in enumerate(ring) if (reason := _position_problem(position, f"{where}[{index}]"))
    ]
    if not found and ring[0] != ring[-1]:
        found.append(f"{where} is not closed: its first position {ring[0]} differs from its last {ring[-1]}")
    return found


def _polygon_problems(polygon: Any, where: str) -> list[str]:
    if not isinstance(polygon, list) or not polygon:
        return [f"{where} must be a list of linear rings, the exterior first"]
    return [reason for index, ring in enumerate(polygon) for reason in _ring_problems(ring, f"{where}[{index}]")]


def _kind_problem(geometry: Any, allowed: tuple[str, ...]) -> str | None:
    if not isinstance(geometry, dict):
        return "must be a GeoJSON geometry object"
    kind = geometry.get("type")
    if kind not in allowed:
        return f"wrong geometry type {kind!r}: must be {' or '.join(allowed)}"
    if "coordinates" not in geometry:
        return "has no coordinates"
    unknown = set(geometry) - {"type", "coordinates", "bbox"}
    if unknown:
        return f"has members GeoJSON geometries do not have: {', '.join(sorted(unknown))}"
    return None


def point_problems(geometry: Any, field: str = "geometry") -> list[FieldProblem]:
    """Why ``geometry`` is not a GeoJSON Point inside China's extent (empty when it is)."""
    if (reason := _kind_problem(geometry, ("Point",))) is not None:
        return [FieldProblem(field, reason)]
    if (reason := _position_problem(geometry["coordinates"], "coordinates")) is not None:
        return [FieldProblem(field, reason)]
    return []


def area_problems(geometry: Any, field: str = "geometry") -> list[FieldProblem]:
    """Why ``geometry`` is not a well-formed GeoJSON Polygon or MultiPolygon inside China's extent."""
    if (reason := _kind_problem(geometry, ("Polygon", "MultiPolygon"))) is not None:
        return [FieldProblem(field, reason)]
    coordinates = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        reasons = _polygon_problems(coordinates, "coordinates")
    elif not isinstance(coordinates, list) or not coordinates:
        reasons = ["coordinates must be a list of polygons"]
    else:
        reasons = [
            reason
            for index, polygon in enumerate(coordinates)
            for reason in _polygon_problems(polygon, f"coordinates[{index}]")
        ]
    if not reasons and _count(coordinates) > MAX_POSITIONS:
        reasons = [f"has more than {MAX_POSITIONS} positions"]
    return [FieldProblem(field, reason) for reason in reasons[:10]]


def _count(coordinates: Any) -> int:
    if coordinates and isinstance(coordinates[0], int | float):
        return 1
    return sum(_count(part) for part in coordinates)


def to_element(geometry: dict[str, Any]) -> WKBElement:
    """A checked GeoJSON geometry as the extended WKB PostGIS stores (CGCS2000)."""
    return WKBElement(shapely.to_wkb(shape(geometry), include_srid=False), srid=SRID, extended=False)


def _lists(coordinates: Any) -> Any:
    if isinstance(coordinates, tuple | list):
        return [_lists(part) for part in coordinates]
    return coordinates


#: The (E)WKB type flag of a geometry that carries its SRID, and the type code of a point.
_EWKB_SRID, _WKB_POINT = 0x20000000, 1


def _point(data: bytes) -> dict[str, Any] | None:
    """A 2D point's (E)WKB as GeoJSON, read directly (the commonest answer: nearby addresses); else ``None``."""
    if len(data) not in (21, 25) or data[0] not in (0, 1):
        return None
    order = "<" if data[0] == 1 else ">"
    (kind,) = struct.unpack_from(order + "I", data, 1)
    offset = 9 if kind & _EWKB_SRID else 5
    if kind & ~_EWKB_SRID != _WKB_POINT or len(data) != offset + 16:
        return None
    longitude, latitude = struct.unpack_from(order + "dd", data, offset)
    return {"type": "Point", "coordinates": [longitude, latitude]}


def to_geojson(value: Any) -> Any:
    """A stored geometry (WKB, as the database answers it) as a GeoJSON geometry; GeoJSON passes unchanged."""
    if isinstance(value, WKBElement):
        value = bytes(value.data) if not isinstance(value.data, str) else bytes.fromhex(value.data)
    if isinstance(value, bytes | memoryview):
        point = _point(bytes(value))
        if point is not None:
            return point
        geometry = mapping(shapely.from_wkb(bytes(value)))
        return {"type": geometry["type"], "coordinates": _lists(geometry["coordinates"])}
    return value
