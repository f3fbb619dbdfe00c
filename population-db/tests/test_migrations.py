"""The migrations create exactly the tables the models describe; 0003 goes down without losing history, and 0005
not while deferred events wait."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from onesource.kit.migrations import alembic_config, upgrade
from onesource.kit.testing.schema import schema_differences
from onesource.population.imports.events import REGISTRATIONS
from onesource.population.imports.schemas import ImportRow
from onesource.population.models import Base
from onesource.population.models import Person as PersonRow
from onesource.population.persons.schemas import Person

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


async def test_models_and_migrations_agree(population_app) -> None:
    diff = await schema_differences(population_app.state.engine, Base.metadata)
    assert diff == []


async def test_going_below_0003_writes_out_the_first_versions_imports_kept_in_person_rows(
    infrastructure, factory
) -> None:
    dsn = await infrastructure.recreate_database("test_population_downgrade")
    await asyncio.to_thread(upgrade, MIGRATIONS, dsn)
    import_id = uuid.uuid4()
    imported = {**factory.person(), "former_names": ["李大", '"引号"'], "death_date": "2025-01-02"}
    changed = factory.person()
    engine = create_async_engine(dsn)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO person_import (id, format, status, client_id, department, request_id) "
                    "VALUES (:id, 'csv', 'completed', 'psb-registrar', 'psb', 'r-1')"
                ),
                {"id": import_id},
            )
            for person, version in ((imported, 1), (changed, 2)):
                typed = ImportRow.model_validate(person).model_dump()
                await connection.execute(
                    insert(PersonRow).values(
                        **typed, deceased=typed["death_date"] is not None, version=version, import_id=import_id
                    )
                )
        await asyncio.to_thread(command.downgrade, alembic_config(MIGRATIONS, dsn), "0002")
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT * FROM person_version"))).all()
            stored = (
                await connection.execute(
                    text("SELECT * FROM person WHERE id_number = :id"), {"id": imported["id_number"]}
                )
            ).one()
        # only the unchanged person's first version lived in its row (the changed one's was written at its change)
        [written] = rows
        assert written.id_number == imported["id_number"]
        assert (written.version, written.change, written.recorded_by, written.department, written.request_id) == (
            1,
            "registered",
            "psb-registrar",
            "psb",
            "r-1",
        )
        assert written.import_id == import_id
        assert written.recorded_at == stored.created_at
        assert written.changes == Person.model_validate(stored._mapping).record()
        await asyncio.to_thread(upgrade, MIGRATIONS, dsn)  # and back up
    finally:
        await engine.dispose()


async def test_going_below_0005_waits_until_the_deferred_events_are_published(infrastructure) -> None:
    dsn = await infrastructure.recreate_database("test_population_deferred_downgrade")
    await asyncio.to_thread(upgrade, MIGRATIONS, dsn)
    engine = create_async_engine(dsn)
    config = alembic_config(MIGRATIONS, dsn)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO outbox_event (event_id, topic, key, shard, payload, renderer)"
                    " VALUES ('row-1', 'onesource.population.person.v1', '11010519491231002X', 0,"
                    ' \'{"keys": ["11010519491231002X"], "details": {}}\', :renderer)'
                ),
                {"renderer": REGISTRATIONS},
            )
        with pytest.raises(Exception, match="not yet published"):  # their events would be lost with the column
            await asyncio.to_thread(command.downgrade, config, "0004")
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE outbox_event SET published_at = now()"))
        await asyncio.to_thread(command.downgrade, config, "0004")
        async with engine.connect() as connection:
            columns = await connection.scalars(
                text("SELECT column_name FROM information_schema.columns WHERE table_name = 'outbox_event'")
            )
            assert "renderer" not in set(columns)
        await asyncio.to_thread(upgrade, MIGRATIONS, dsn)  # and back up
    finally:
        await engine.dispose()
