"""Every SQL statement of the addresses domain (the registry core writes records and their versions)."""

from __future__ import annotations

import functools
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, Float, Integer, String, bindparam, func, select

from onesource.geo import reads, spatial
from onesource.geo.models import Address


def geography() -> ColumnElement[Any]:
    """The address's point as geography: the expression of the ``ix_address_geography`` GiST index."""
    return func.geography(Address.__table__.c.geometry, type_=Geography)


@functools.cache
def search(*, bbox: bool, division: bool, include_retired: bool, after: bool) -> reads.Prepared:
    """Addresses matching the filters named, in address-code order: one page (``limit`` + 1) after ``after_code``.

    Compiled once per combination of filters, the values bind parameters (see ``parcels.repository.search``);
    ``bbox`` is answered from the GiST index on the geometry.
    """
    table = Address.__table__
    statement = select(table)
    if bbox:
        statement = statement.where(func.ST_Intersects(table.c.geometry, spatial.envelope_parameter()))
    if division:
        statement = statement.where(spatial.starts_with(table.c.division_code, "division"))
    if not include_retired:
        statement = statement.where(table.c.status == "active")
    if after:
        statement = statement.where(table.c.address_code > bindparam("after_code", type_=String))
    statement = statement.order_by(table.c.address_code).limit(bindparam("limit", type_=Integer))
    return reads.Prepared.of(statement)


@functools.cache
def near(*, division: bool, include_retired: bool, after: bool) -> reads.Prepared:
    """Addresses within ``radius`` metres of the point, nearest first, with their distance ``distance_m``.

    Both the radius (``ST_DWithin``) and the order (``<->``) are answered from the GiST index on the address's
    geography; both measure on the mean sphere (``use_spheroid`` false), so the distances answered, the order and
    the radius agree. A page continues after (``after_distance``, ``after_code``).
    """
    table = Address.__table__
    here = func.geography(spatial.point_parameter(), type_=Geography)
    distance_m = geography().op("<->", return_type=Float)(here)
    statement = select(table, distance_m.label("distance_m")).where(
        func.ST_DWithin(geography(), here, bindparam("radius", type_=Float), False)
    )
    if division:
        statement = statement.where(spatial.starts_with(table.c.division_code, "division"))
    if not include_retired:
        statement = statement.where(table.c.status == "active")
    if after:
        keys = (bindparam("after_distance", type_=Float), bindparam("after_code", type_=String))
        statement = statement.where(reads.after((distance_m, table.c.address_code), keys))
    statement = statement.order_by(distance_m, table.c.address_code).limit(bindparam("limit", type_=Integer))
    return reads.Prepared.of(statement)
