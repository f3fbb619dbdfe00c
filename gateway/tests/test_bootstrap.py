from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from onesource.gateway.bootstrap import PLATFORM_USCC, run_bootstrap
from onesource.gateway.clients import hashing
from onesource.gateway.departments.uscc import is_valid_uscc
from onesource.gateway.models import Client, Department, SigningKey
from onesource.gateway.settings import Settings
from onesource.kit.tables import outbox_event
from onesource.kit.testing.plugin import prepare_service_database

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def test_platform_uscc_is_valid() -> None:
    assert is_valid_uscc(PLATFORM_USCC)


async def _counts(connection: AsyncConnection) -> tuple[int, int, int, int]:
    return (
        await connection.scalar(select(func.count()).select_from(Department).where(Department.code == "platform")),
        await connection.scalar(select(func.count()).select_from(Client).where(Client.client_id == "admin")),
        await connection.scalar(select(func.count()).select_from(SigningKey).where(SigningKey.active)),
        await connection.scalar(select(func.count()).select_from(outbox_event)),
    )


async def test_bootstrap_again_changes_nothing(connection, settings) -> None:
    before = await _counts(connection)
    assert before[:3] == (1, 1, 1)
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        await run_bootstrap(session, settings)
        await session.commit()  # releases the savepoint; the test transaction is still rolled back
    assert await _counts(connection) == before


async def test_the_configured_secret_wins_and_the_admin_is_restored(connection, settings, identity) -> None:
    await connection.execute(text("UPDATE client SET disabled = true, roles = '{consumer}' WHERE client_id = 'admin'"))
    changed = settings.model_copy(update={"bootstrap_admin_secret": SecretStr("a-new-admin-secret")})
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        await run_bootstrap(session, changed)
        await session.commit()  # releases the savepoint; the test transaction is still rolled back
    assert (await identity.token("admin", settings.bootstrap_admin_secret.get_secret_value())).status_code == 401
    response = await identity.token("admin", "a-new-admin-secret")
    assert response.status_code == 200, response.text
    admin = (await connection.execute(select(Client).where(Client.client_id == "admin"))).one()
    assert admin.disabled is False
    assert "admin" in admin.roles
    payloads = (
        await connection.scalars(
            select(outbox_event.c.payload).where(outbox_event.c.key == "admin").order_by(outbox_event.c.id.desc())
        )
    ).all()
    assert {payload["type"] for payload in payloads[:2]} == {
        "gov.onesource.identity.client.secret-rotated.v1",
        "gov.onesource.identity.client.enabled.v1",
    }
    assert all("a-new-admin-secret" not in str(payload) for payload in payloads)


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_engine(infrastructure) -> AsyncIterator[AsyncEngine]:
    dsn = await prepare_service_database(infrastructure, "gateway-race", MIGRATIONS)
    engine = create_async_engine(dsn)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_concurrent_start_ups_create_everything_once(fresh_engine, settings) -> None:
    async def start() -> None:
        async with AsyncSession(fresh_engine) as session, session.begin():
            await run_bootstrap(session, settings)

    await asyncio.gather(*(start() for _ in range(4)))
    await start()
    async with fresh_engine.connect() as connection:
        departments, admins, active_keys, events = await _counts(connection)
        assert (departments, admins, active_keys) == (1, 1, 1)
        types = sorted((await connection.scalars(select(outbox_event.c.payload["type"].astext))).all())
        stored_hash = await connection.scalar(select(Client.secret_hash).where(Client.client_id == "admin"))
    assert types == [
        "gov.onesource.identity.client.registered.v1",
        "gov.onesource.identity.department.registered.v1",
    ]
    assert events == 2
    assert await hashing.verify_secret(settings.bootstrap_admin_secret.get_secret_value(), stored_hash)


async def test_without_an_admin_secret_only_a_key_is_made(fresh_engine, gateway_database) -> None:
    plain = Settings(database_url=SecretStr(gateway_database))
    async with AsyncSession(fresh_engine) as session, session.begin():
        await run_bootstrap(session, plain)
    async with fresh_engine.connect() as connection:
        assert (await _counts(connection))[1:3] == (0, 1)
