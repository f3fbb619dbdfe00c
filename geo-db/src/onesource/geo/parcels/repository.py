"""Every SQL statement of the parcels domain (the registry core writes records and their versions)."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from onesource.geo import spatial
from onesource.geo.geojson import Box, Position
from onesource.geo.models import Parcel


def search(
    *,
    contains: Position | None,
    bbox: Box | None,
    division: str | None,
    land_use: str | None,
    include_retired: bool,
) -> Select[tuple[Parcel]]:
    """Parcels matching every given filter (the caller orders and pages them).

    ``contains``: the parcels that cover the point (``ST_Covers``: a point on the boundary counts), ``bbox``: those
    that meet the box; both are answered from the GiST index on ``parcel.geometry``.
    """
    statement = select(Parcel)
    if contains is not None:
        statement = statement.where(func.ST_Covers(Parcel.geometry, spatial.point(contains)))
    if bbox is not None:
        statement = statement.where(func.ST_Intersects(Parcel.geometry, spatial.envelope(bbox)))
    if division is not None:
        statement = statement.where(Parcel.division_code.startswith(division, autoescape=True))
    if land_use is not None:
        statement = statement.where(Parcel.land_use.startswith(land_use, autoescape=True))
    if not include_retired:
        statement = statement.where(Parcel.status == "active")
    return statement
