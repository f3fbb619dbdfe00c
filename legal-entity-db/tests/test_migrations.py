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
from onesource.legal_entity.models import Base

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


async def test_models_and_migrations_agree(legal_entity_app: FastAPI) -> None:
    def differences(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, [Base.metadata, kit_metadata])

    async with legal_entity_app.state.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []


async def test_the_name_grams_function_makes_every_character_and_pair(legal_entity_app: FastAPI) -> None:
    async with legal_entity_app.state.engine.connect() as connection:
        grams = await connection.scalar(text("SELECT entity_name_grams('甲乙丙')"))
        single = await connection.scalar(text("SELECT entity_name_grams('甲')"))
    assert sorted(grams) == sorted(["甲", "乙", "丙", "甲乙", "乙丙"])
    assert single == ["甲"]


async def test_down_to_the_kit_tables_and_up_again(infrastructure: Infrastructure) -> None:
    dsn = await infrastructure.recreate_database("test_legal_entity_downgrade")
    await asyncio.to_thread(upgrade, MIGRATIONS, dsn)
    await asyncio.to_thread(command.downgrade, alembic_config(MIGRATIONS, dsn), "0003")
    engine = create_async_engine(dsn)
    try:
        async with engine.connect() as connection:
            tables = set(await connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
    finally:
        await engine.dispose()
    assert "entity" not in tables
    assert "outbox_event" in tables
    await asyncio.to_thread(upgrade, MIGRATIONS, dsn)
