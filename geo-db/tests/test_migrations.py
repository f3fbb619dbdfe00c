"""The migrations create PostGIS and exactly the tables the models describe, and go down and up again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from onesource.geo.models import Base
from onesource.kit.migrations import alembic_config, upgrade
from onesource.kit.testing.schema import schema_differences

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def _ours(item: tuple) -> bool:
    """Differences about our tables (PostGIS's own, such as ``spatial_ref_sys``, are not ours to describe)."""
    kind, *rest = item
    table = getattr(rest[0], "table", rest[0]) if rest else None
    name = getattr(table, "name", "")
    return name not in {"spatial_ref_sys"} and not (kind == "remove_table" and name.startswith(("topology", "layer")))


async def test_models_and_migrations_agree(geo_app) -> None:
    diff = await schema_differences(geo_app.state.engine, Base.metadata)
    assert [item for item in diff if _ours(item)] == []


async def test_postgis_is_there_and_the_migrations_go_down_and_up(postgis_infrastructure) -> None:
    dsn = await postgis_infrastructure.recreate_database("test_geo_downgrade")
    await asyncio.to_thread(upgrade, MIGRATIONS, dsn)
    engine = create_async_engine(dsn)
    try:
        async with engine.connect() as connection:
            version = (await connection.execute(text("SELECT postgis_lib_version()"))).scalar_one()
            assert int(version.split(".")[0]) >= 3
        await asyncio.to_thread(command.downgrade, alembic_config(MIGRATIONS, dsn), "0003")
        async with engine.connect() as connection:
            tables = set(await connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
            assert not tables & {"parcel", "address", "division"}
        await asyncio.to_thread(upgrade, MIGRATIONS, dsn)
    finally:
        await engine.dispose()
