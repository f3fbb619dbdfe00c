"""The migrations create exactly the tables the models describe, and go down again."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from alembic import command
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from onesource.kit.migrations import alembic_config, upgrade
from onesource.kit.testing.plugin import Infrastructure
from onesource.kit.testing.schema import schema_differences
from onesource.legal_entity.entities.schemas import RECORD_FIELDS
from onesource.legal_entity.entities.schemas import Entity as EntityShape
from onesource.legal_entity.models import Base

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


async def test_models_and_migrations_agree(legal_entity_app: FastAPI) -> None:
    diff = await schema_differences(legal_entity_app.state.engine, Base.metadata)
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


async def test_going_down_from_0005_writes_out_the_first_versions_imported_entities_hold(
    infrastructure: Infrastructure,
) -> None:
    dsn = await infrastructure.recreate_database("test_legal_entity_downgrade_0005")
    await asyncio.to_thread(upgrade, MIGRATIONS, dsn)
    engine = create_async_engine(dsn)
    import_id = uuid.uuid4()
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO entity_import (id, format, status, client_id, department, request_id) "
                    "VALUES (:id, 'csv', 'completed', 'amr-registrar', 'amr', 'request-1')"
                ),
                {"id": import_id},
            )
            await connection.execute(
                text(
                    "INSERT INTO entity (uscc, name, former_names, entity_type, legal_representative_id, "
                    "established_on, registered_capital, registration_authority, region_code, industry_code, "
                    "industry_section, address, import_id) VALUES ('91110000600037341L', '北京示例科技有限公司', "
                    "'{旧名}', '1130', '11010519491231002X', '2015-06-01', "
                    """'{"amount": "100.50", "currency": "CNY"}', '北京市市场监督管理局', '110105', '6513', 'I', """
                    "'北京市朝阳区建国路88号', :import_id)"
                ),
                {"import_id": import_id},
            )
            row = (await connection.execute(text("SELECT * FROM entity"))).mappings().one()
            expected = EntityShape.model_validate(dict(row)).model_dump(mode="json", include=set(RECORD_FIELDS))
        await asyncio.to_thread(command.downgrade, alembic_config(MIGRATIONS, dsn), "0004")
        async with engine.connect() as connection:
            written = (await connection.execute(text("SELECT * FROM entity_version"))).mappings().all()
    finally:
        await engine.dispose()
    assert [dict(version) for version in written] == [
        {
            "uscc": "91110000600037341L",
            "version": 1,
            "change": "registered",
            "changes": expected,
            "recorded_at": row["created_at"],
            "recorded_by": "amr-registrar",
            "department": "amr",
            "request_id": "request-1",
        }
    ]
