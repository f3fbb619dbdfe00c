"""The migrations create exactly the tables the models describe, and go down again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from onesource.kit.migrations import alembic_config, upgrade
from onesource.kit.tables import kit_metadata
from onesource.kit.testing.plugin import Infrastructure
from onesource.macroeconomy.models import Base

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
_KEY_COLLATION = text(
    "SELECT collation_name FROM information_schema.columns WHERE table_name = 'series' AND column_name = 'key'"
)


async def test_models_and_migrations_agree(macroeconomy_app: FastAPI) -> None:
    def differences(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, [Base.metadata, kit_metadata])

    async with macroeconomy_app.state.engine.connect() as connection:
        diff = await connection.run_sync(differences)
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
