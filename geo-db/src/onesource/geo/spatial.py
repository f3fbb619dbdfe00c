"""SQL expressions every spatial query shares.

Positions and boxes as CGCS2000 geometries, and PostGIS's verdict on a geometry a registrar sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import ColumnElement, Float, String, bindparam, func, text
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.geo.geojson import Box, Position
from onesource.geo.geometry import SRID


def point(position: Position) -> ColumnElement[Any]:
    """The position as a CGCS2000 point."""
    return func.ST_SetSRID(func.ST_MakePoint(position.longitude, position.latitude), SRID)


def point_parameter() -> ColumnElement[Any]:
    """A CGCS2000 point of the bind parameters ``longitude`` and ``latitude`` (:func:`position_values`)."""
    return func.ST_SetSRID(
        func.ST_MakePoint(bindparam("longitude", type_=Float), bindparam("latitude", type_=Float)), SRID
    )


def envelope_parameter() -> ColumnElement[Any]:
    """A CGCS2000 box of the bind parameters ``west``, ``south``, ``east``, ``north`` (:func:`box_values`)."""
    corners = (bindparam(name, type_=Float) for name in ("west", "south", "east", "north"))
    return func.ST_MakeEnvelope(*corners, SRID)


def position_values(position: Position) -> dict[str, float]:
    """The values of :func:`point_parameter`."""
    return {"longitude": position.longitude, "latitude": position.latitude}


def box_values(box: Box) -> dict[str, float]:
    """The values of :func:`envelope_parameter`."""
    return {"west": box.west, "south": box.south, "east": box.east, "north": box.north}


#: ``LIKE`` patterns escape with ``/``, as SQLAlchemy's ``startswith(autoescape=True)`` does.
LIKE_ESCAPE = "/"
_LIKE_ESCAPES = str.maketrans({"/": "//", "%": "/%", "_": "/_"})


def starts_with(column: ColumnElement[str], parameter: str) -> ColumnElement[bool]:
    """``column`` starts with the bind parameter ``parameter``'s prefix (given as :func:`prefix_pattern`)."""
    return column.like(bindparam(parameter, type_=String), escape=LIKE_ESCAPE)


def prefix_pattern(prefix: str) -> str:
    """A ``LIKE ... ESCAPE '/'`` pattern of the values starting with ``prefix``."""
    return prefix.translate(_LIKE_ESCAPES) + "%"


@dataclass(frozen=True)
class Inspection:
    """What PostGIS says about a geometry.

    Whether it is valid (and why not, where), its area on the ellipsoid, and the geometry as it is stored (polygons
    oriented as RFC 7946 §3.1.6 asks).
    """

    valid: bool
    reason: str | None
    location: str | None
    area_m2: float
    element: WKBElement


_INSPECT = text(
    """
    WITH sent AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(:geojson), :srid) AS shape)
    SELECT ST_IsValid(shape) AS valid,
           (ST_IsValidDetail(shape)).reason AS reason,
           ST_AsText((ST_IsValidDetail(shape)).location) AS location,
           ST_Area(shape::geography) AS area_m2,
           ST_AsBinary(ST_ForcePolygonCCW(shape)) AS wkb
    FROM sent
    """
)


async def inspect(session: AsyncSession, geometry: dict[str, Any]) -> Inspection:
    """PostGIS's verdict on a (structurally checked) GeoJSON geometry: validity, geodesic area, stored form.

    The area is ``ST_Area`` on geography: geodesic, on the CGCS2000 ellipsoid of EPSG:4490.
    """
    row = (await session.execute(_INSPECT, {"geojson": json.dumps(geometry), "srid": SRID})).one()
    return Inspection(
        valid=row.valid,
        reason=row.reason,
        location=row.location,
        area_m2=float(row.area_m2),
        element=WKBElement(bytes(row.wkb), srid=SRID),
    )
