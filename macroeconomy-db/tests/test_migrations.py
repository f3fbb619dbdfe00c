"""The migrations create exactly the tables the models describe, and go down again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from onesource.kit.migrations import alembic_config, upgrade
from onesource.kit.testing.plugin import Infrastructure
from onesource.kit.testing.schema import schema_differences
from onesource.macroeconomy.models import Base

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
_KEY_COLLATION = text(
    "SELECT collation_name FROM information_schema.columns WHERE table_name = 'series' AND column_name = 'key'"
)


async def test_models_and_migrations_agree(macroeconomy_app: FastAPI) -> None:
    diff = await schema_differences(macroeconomy_app.state.engine, Base.metadata)
    async with macroeconomy_app.state.engine.connect() as connection:
        collation = await connection.scalar(_KEY_COLLATION)
    assert diff == []
    assert collation == "C"


async def test_down_to_the_kit_tables_and_up_again(infrastructure: Infrastructure) -> None:
    dsn = await infrastructure.recreate_database("test_macroeconomy_downgrade")
    await asyncio.to_thread(upgrade, MIGRATIONS, dsn)
    await asyncio.to_thread(command.downgrade, alembic_config(MIGRATIONS, dsn), "0004")
    engine = create_async_engine(dsn)
    try:
        async with engine.connect() as connection:
            collation = await connection.scalar(_KEY_COLLATION)
        assert collation is None  # the database's own again
        await asyncio.to_thread(command.downgrade, alembic_config(MIGRATIONS, dsn), "0003")
        async with engine.connect() as connection:
            tables = set(await connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
    finally:
        await engine.dispose()
    assert "series" not in tables
    assert "outbox_event" in tables
    await asyncio.to_thread(upgrade, MIGRATIONS, dsn)
