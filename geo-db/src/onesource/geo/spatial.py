"""SQL expressions every spatial query shares.

Positions and boxes as CGCS2000 geometries, and PostGIS's verdict on a geometry a registrar sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import ColumnElement, func, text
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.geo.geojson import Box, Position
from onesource.geo.geometry import SRID


def point(position: Position) -> ColumnElement[Any]:
    """The position as a CGCS2000 point."""
    return func.ST_SetSRID(func.ST_MakePoint(position.longitude, position.latitude), SRID)


def envelope(box: Box) -> ColumnElement[Any]:
    """The box as a CGCS2000 polygon."""
    return func.ST_MakeEnvelope(box.west, box.south, box.east, box.north, SRID)


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
