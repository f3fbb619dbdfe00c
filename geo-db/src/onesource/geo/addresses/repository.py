"""Every SQL statement of the addresses domain (the registry core writes records and their versions)."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, Float, Label, Select, func, select

from onesource.geo import spatial
from onesource.geo.geojson import Box, Position
from onesource.geo.models import Address


def geography() -> ColumnElement[Any]:
    """The address's point as geography: the expression of the ``ix_address_geography`` GiST index."""
    return func.geography(Address.geometry, type_=Geography)


def search(
    *,
    bbox: Box | None,
    division: str | None,
    include_retired: bool,
) -> Select[tuple[Address]]:
    """Addresses matching every given filter (the caller orders and pages them); ``bbox`` from the GiST index."""
    statement = select(Address)
    if bbox is not None:
        statement = statement.where(func.ST_Intersects(Address.geometry, spatial.envelope(bbox)))
    if division is not None:
        statement = statement.where(Address.division_code.startswith(division, autoescape=True))
    if not include_retired:
        statement = statement.where(Address.status == "active")
    return statement


def near(
    centre: Position, radius_m: float, *, division: str | None, include_retired: bool
) -> tuple[Select[Any], Label[float]]:
    """Addresses within ``radius_m`` metres of ``centre``, with their distance, and the distance expression.

    Both the radius (``ST_DWithin``) and the order (``<->``, nearest first) are answered from the GiST index on the
    address's geography; both measure on the mean sphere (``use_spheroid`` false), so the distances answered, the
    order and the radius agree.
    """
    here = func.geography(spatial.point(centre), type_=Geography)
    distance_m = geography().op("<->", return_type=Float)(here).label("distance_m")
    statement = select(Address, distance_m, Address.address_code).where(
        func.ST_DWithin(geography(), here, radius_m, False)
    )
    if division is not None:
        statement = statement.where(Address.division_code.startswith(division, autoescape=True))
    if not include_retired:
        statement = statement.where(Address.status == "active")
    return statement, distance_m
