"""The spatial queries are answered from their GiST indexes (EXPLAIN over enough rows that a scan would cost more)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Float, func, select, text
from sqlalchemy.dialects import postgresql

from onesource.geo import spatial
from onesource.geo.addresses import repository as addresses
from onesource.geo.geojson import Box, Position
from onesource.geo.models import Address
from onesource.geo.parcels import repository as parcels
from onesource.geo.reads import Prepared

ROWS = 5000


@pytest.fixture
async def many(connection) -> None:
    """``ROWS`` parcels and addresses on a grid around Hangzhou, in the test's transaction, with statistics."""
    await connection.execute(
        text(
            """
            INSERT INTO parcel (parcel_code, division_code, land_use, geometry, area_m2)
            SELECT '330106001001GB' || lpad(n::text, 5, '0'), '330106', '0701',
                   ST_MakeEnvelope(120 + (n % 100) * 0.001, 30 + (n / 100) * 0.001,
                                   120 + (n % 100) * 0.001 + 0.0008, 30 + (n / 100) * 0.001 + 0.0008, 4490),
                   7000
            FROM generate_series(0, :rows - 1) AS n
            """
        ),
        {"rows": ROWS},
    )
    await connection.execute(
        text(
            """
            INSERT INTO address (address_code, division_code, town, door_number, road, full_address, geometry)
            SELECT '330106001001' || lpad(n::text, 6, '0'), '330106', '城关街道', n || '号', '文三路', '杭州',
                   ST_SetSRID(ST_MakePoint(120 + (n % 100) * 0.001 + 0.0004, 30 + (n / 100) * 0.001 + 0.0004), 4490)
            FROM generate_series(0, :rows - 1) AS n
            """
        ),
        {"rows": ROWS},
    )
    await connection.execute(text("ANALYZE parcel"))
    await connection.execute(text("ANALYZE address"))


async def plan(connection, statement: Any) -> str:
    compiled = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    rows = await connection.execute(text(f"EXPLAIN {compiled}"))
    return "\n".join(row[0] for row in rows)


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value).lower() if isinstance(value, bool) else repr(value)


async def plans(connection, prepared: Prepared, values: dict[str, Any]) -> list[str]:
    """The plans of a search as the read pool runs it (a prepared statement): custom, then generic.

    A prepared statement may be planned once for any values (a generic plan, which PostgreSQL picks after a few
    executions); both plans must use the index.
    """
    arguments = ", ".join(_literal(values.get(name, prepared.defaults.get(name))) for name in prepared.names)
    await connection.execute(text(f"PREPARE search AS {prepared.sql}"))
    shown = []
    try:
        for mode in ("force_custom_plan", "force_generic_plan"):
            await connection.execute(text(f"SET LOCAL plan_cache_mode = {mode}"))
            rows = await connection.execute(text(f"EXPLAIN EXECUTE search({arguments})"))
            shown.append("\n".join(row[0] for row in rows))
    finally:
        await connection.execute(text("DEALLOCATE search"))
        await connection.execute(text("SET LOCAL plan_cache_mode = auto"))
    return shown


async def test_point_in_parcel_uses_the_gist_index(connection, many) -> None:
    statement = parcels.search(
        contains=True, bbox=False, division=False, land_use=False, include_retired=False, after=False
    )
    for shown in await plans(connection, statement, {"longitude": 120.0504, "latitude": 30.0204, "limit": 51}):
        assert "ix_parcel_geometry" in shown, shown
        assert "Seq Scan" not in shown, shown


async def test_bounding_box_uses_the_gist_index(connection, many) -> None:
    box = spatial.box_values(Box(120.01, 30.01, 120.012, 30.012))
    statement = parcels.search(
        contains=False, bbox=True, division=False, land_use=False, include_retired=False, after=False
    )
    for shown in await plans(connection, statement, {**box, "limit": 51}):
        assert "ix_parcel_geometry" in shown, shown
    addresses_in_box = addresses.search(bbox=True, division=False, include_retired=False, after=False)
    for shown in await plans(connection, addresses_in_box, {**box, "limit": 51}):
        assert "ix_address_geometry" in shown, shown


async def test_nearby_uses_the_geography_index_for_the_radius_and_the_order(connection, many) -> None:
    # a small radius: the index finds the few candidates (Index Cond), which are then ordered
    statement = addresses.near(division=False, include_retired=False, after=False)
    values = {"longitude": 120.05, "latitude": 30.02, "radius": 200.0, "limit": 51}
    for shown in await plans(connection, statement, values):
        assert "ix_address_geography" in shown, shown
        assert "Index Cond: (geography(geometry) && _st_expand(" in shown, shown
        assert "Seq Scan" not in shown, shown
    # the next page too
    statement = addresses.near(division=True, include_retired=False, after=True)
    values = {**values, "division": "3301%", "after_distance": 20.0, "after_code": "330106001001000000"}
    for shown in await plans(connection, statement, values):
        assert "ix_address_geography" in shown, shown
        assert "Seq Scan" not in shown, shown
    # the order is the index's: without a radius the nearest come straight from it (KNN ``<->``), no sort
    knn = select(
        addresses.geography()
        .op("<->", return_type=Float)(func.geography(spatial.point(Position(120.05, 30.02))))
        .label("d")
    )
    shown = await plan(connection, knn.select_from(Address).order_by(text("d")).limit(5))
    assert "Index Scan using ix_address_geography" in shown, shown
    assert "Order By: (geography(geometry) <-> " in shown, shown
    assert "Sort" not in shown, shown
