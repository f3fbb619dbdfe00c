"""Every SQL statement of the parcels domain (the registry core writes records and their versions)."""

from __future__ import annotations

import functools

from sqlalchemy import Integer, String, bindparam, func, select

from onesource.geo import reads, spatial
from onesource.geo.models import Parcel


@functools.cache
def search(
    *, contains: bool, bbox: bool, division: bool, land_use: bool, include_retired: bool, after: bool
) -> reads.Prepared:
    """Parcels matching the filters named, in parcel-code order: one page (``limit`` + 1 rows) after ``after_code``.

    Compiled once per combination of filters; the values are bind parameters (``spatial.POINT``/``BOX`` names,
    ``division`` and ``land_use`` as ``LIKE`` patterns, ``after_code``, ``limit``). ``contains``: the parcels
    that cover the point (``ST_Covers``: a point on the boundary counts), ``bbox``: those that meet the box; both
    are answered from the GiST index on ``parcel.geometry``.
    """
    table = Parcel.__table__
    statement = select(table)
    if contains:
        statement = statement.where(func.ST_Covers(table.c.geometry, spatial.point_parameter()))
    if bbox:
        statement = statement.where(func.ST_Intersects(table.c.geometry, spatial.envelope_parameter()))
    if division:
        statement = statement.where(spatial.starts_with(table.c.division_code, "division"))
    if land_use:
        statement = statement.where(spatial.starts_with(table.c.land_use, "land_use"))
    if not include_retired:
        statement = statement.where(table.c.status == "active")
    if after:
        statement = statement.where(table.c.parcel_code > bindparam("after_code", type_=String))
    statement = statement.order_by(table.c.parcel_code).limit(bindparam("limit", type_=Integer))
    return reads.Prepared.of(statement)
