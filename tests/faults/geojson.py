"""RFC 7946 validity of what the checker sees of a geo registry: geometry objects and Features as a producer must
write them.

Written here from the RFC rather than taken from the product (``onesource.registry.shapes.geojson``,
``onesource.geo.geometry``): the checker does not trust the code it checks. Each function answers the problems it
finds (empty: valid), each naming where.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Final

#: How deep each geometry type's ``coordinates`` nest down to positions (RFC 7946 §3.1.2–§3.1.7).
DEPTHS: Final = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def position_problems(position: Any, where: str) -> list[str]:
    """§3.1.1: two or three numbers, longitude then latitude (§4: in degrees), then an optional altitude."""
    if not isinstance(position, list) or not 2 <= len(position) <= 3 or not all(map(_number, position)):
        return [f"{where}: not a position of two or three finite numbers: {position!r:.80}"]
    longitude, latitude = position[0], position[1]
    if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        return [f"{where}: {position} is not longitude, latitude in degrees"]
    return []


def _signed_area(ring: list[list[float]]) -> float:
    """Twice the ring's planar signed area (shoelace): positive when it runs counterclockwise."""
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))


def ring_problems(ring: Any, where: str, *, exterior: bool) -> list[str]:
    """§3.1.6: a closed ring of four or more positions, following the right-hand rule with respect to the area it
    bounds (an exterior ring counterclockwise, a hole clockwise)."""
    if not isinstance(ring, list) or len(ring) < 4:
        return [f"{where}: a linear ring needs four or more positions"]
    found = [problem for n, position in enumerate(ring) for problem in position_problems(position, f"{where}[{n}]")]
    if found:
        return found
    if ring[0] != ring[-1]:
        return [f"{where}: not closed ({ring[0]} … {ring[-1]})"]
    area = _signed_area(ring)
    if area == 0:
        return [f"{where}: bounds no area"]
    if (area > 0) != exterior:
        which = "an exterior ring" if exterior else "a hole"
        runs = "clockwise" if area < 0 else "counterclockwise"
        return [f"{where}: {which} runs {runs} (RFC 7946 §3.1.6: the right-hand rule)"]
    return []


def _polygon_problems(rings: Any, where: str) -> list[str]:
    if not isinstance(rings, list) or not rings:
        return [f"{where}: a polygon is a non-empty list of linear rings"]
    return [
        problem for n, ring in enumerate(rings) for problem in ring_problems(ring, f"{where}[{n}]", exterior=n == 0)
    ]


def _nested(coordinates: Any, depth: int, where: str) -> list[str]:
    """Positions ``depth`` lists deep (their own rules aside)."""
    if depth == 0:
        return position_problems(coordinates, where)
    if not isinstance(coordinates, list):
        return [f"{where}: not a list"]
    return [problem for n, part in enumerate(coordinates) for problem in _nested(part, depth - 1, f"{where}[{n}]")]


def geometry_problems(geometry: Any, where: str = "geometry") -> list[str]:
    """§3.1: a geometry object of one of the seven types, with what its type requires."""
    if not isinstance(geometry, dict):
        return [f"{where}: not a geometry object: {geometry!r:.80}"]
    kind = geometry.get("type")
    if "crs" in geometry:
        return [f"{where}: has a 'crs' member, which RFC 7946 removed (§4: coordinates are WGS 84 degrees)"]
    if kind == "GeometryCollection":
        parts = geometry.get("geometries")
        if not isinstance(parts, list):
            return [f"{where}: a GeometryCollection without a list of geometries"]
        return [problem for n, part in enumerate(parts) for problem in geometry_problems(part, f"{where}[{n}]")]
    if kind not in DEPTHS:
        return [f"{where}: unknown geometry type {kind!r}"]
    coordinates: Any = geometry.get("coordinates")
    if kind == "Polygon":
        return _polygon_problems(coordinates, f"{where}.coordinates")
    if kind == "MultiPolygon":
        if not isinstance(coordinates, list):
            return [f"{where}.coordinates: not a list of polygons"]
        return [
            problem
            for n, polygon in enumerate(coordinates)
            for problem in _polygon_problems(polygon, f"{where}.coordinates[{n}]")
        ]
    found = _nested(coordinates, DEPTHS[kind], f"{where}.coordinates")
    if not found and kind == "LineString" and len(coordinates) < 2:
        found = [f"{where}.coordinates: a LineString needs two or more positions"]
    if not found and kind == "MultiLineString" and any(len(line) < 2 for line in coordinates):
        found = [f"{where}.coordinates: each line needs two or more positions"]
    return found


def feature_problems(feature: Any, where: str = "feature") -> list[str]:
    """§3.2: ``type`` Feature, a ``geometry`` member (a geometry object or null), a ``properties`` member (an object
    or null), an ``id`` (if any) a string or a number."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return [f"{where}: not a Feature: {feature!r:.80}"]
    found = []
    if "geometry" not in feature:
        found.append(f"{where}: no geometry member (null when it has none)")
    elif feature["geometry"] is not None:
        found += geometry_problems(feature["geometry"], f"{where}.geometry")
    if "properties" not in feature:
        found.append(f"{where}: no properties member")
    elif not isinstance(feature["properties"], dict | None):
        found.append(f"{where}: properties is neither an object nor null")
    if "id" in feature and not (isinstance(feature["id"], str) or _number(feature["id"])):
        found.append(f"{where}: id is neither a string nor a number")
    return found
