"""Audit fixtures: a scratch gateway database whose chain each test starts empty, and writers on it.

The writer commits on its own connection, so the per-test rolled-back transaction cannot undo what it writes.
Tests of the writer and of tampering therefore run on their own database, reset before each test (as the
database owner, with triggers off — what an attacker with admin rights could also do). Endpoint tests use the
app's database and count only what they wrote.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from onesource.gateway.audit.entry import AuditEntry
from onesource.gateway.audit.log import AuditLog
from onesource.gateway.audit.models import GENESIS_HASH
from onesource.gateway.keys import service as keys
from onesource.gateway.settings import AuditSettings, Settings
from onesource.kit.db import create_engine
from onesource.kit.migrations import upgrade
from onesource.kit.testing.plugin import Infrastructure, worker_suffix

from ..conftest import MIGRATIONS


def audit_entry(**overrides: Any) -> AuditEntry:
    """A plausible data call's entry; every field can be overridden."""
    values: dict[str, Any] = {
        "time": datetime.now(UTC),
        "request_id": uuid.uuid4().hex,
        "client_id": "civil-affairs-app",
        "department": "civil-affairs",
        "purpose": "最低生活保障资格审核",
        "method": "GET",
        "path": "/api/population/v1/persons/11010519491231002X",
        "status": 200,
        "latency_ms": 1.234,
        "request_hash": "ab" * 32,
        "resources": ("population.person",),
        "grant_ids": ("g-1",),
        "record_keys": ("11010519491231002X",),
        "fields": ("id_number", "name"),
    }
    values.update(overrides)
    return AuditEntry(**values)


async def as_attacker(engine: AsyncEngine, sql: str, **params: Any) -> None:
    """Run ``sql`` with the append-only triggers off, as a database superuser could."""
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(text(sql), params)


@dataclass
class Scratch:
    """The scratch database, its engine, and writers on it (stopped at the end of the test)."""

    dsn: str
    engine: AsyncEngine
    settings: Settings
    logs: list[AuditLog] = field(default_factory=list)
    engines: list[AsyncEngine] = field(default_factory=list)

    def settings_with(self, **audit: Any) -> Settings:
        """The scratch settings with some audit settings changed."""
        merged = {**self.settings.audit.model_dump(), **audit}
        return self.settings.model_copy(update={"audit": AuditSettings(**merged)})

    def new_engine(self, *, pool_size: int = 3, application_name: str = "audit-test-writer") -> AsyncEngine:
        """Another engine on the scratch database (disposed at the end of the test)."""
        engine = create_engine(self.dsn, pool_size=pool_size, application_name=application_name)
        self.engines.append(engine)
        return engine

    async def writer(self, *, engine: AsyncEngine | None = None, **audit: Any) -> AuditLog:
        """A started writer on the scratch database (its own engine unless given one)."""
        if engine is None:
            engine = self.new_engine()
        log = AuditLog(engine, self.settings_with(**audit))
        await log.start()
        self.logs.append(log)
        return log

    async def scalar(self, sql: str, **params: Any) -> Any:
        """One value, read on a connection other than any writer's."""
        async with self.engine.connect() as connection:
            return (await connection.execute(text(sql), params)).scalar()

    async def head(self) -> tuple[int, str]:
        """The committed head."""
        async with self.engine.connect() as connection:
            row = (await connection.execute(text("SELECT seq, hash FROM audit_head"))).one()
        return int(row.seq), str(row.hash)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def scratch_dsn(infrastructure: Infrastructure) -> str:
    dsn = await infrastructure.recreate_database(f"test_gateway_audit_{worker_suffix()}")
    await asyncio.to_thread(upgrade, MIGRATIONS, dsn)
    return dsn


@pytest_asyncio.fixture(loop_scope="session")
async def scratch(scratch_dsn: str, settings: Settings) -> AsyncIterator[Scratch]:
    scratch_settings = settings.model_copy(
        update={
            "database_url": SecretStr(scratch_dsn),
            # Long enough that no periodic checkpoint interferes unless a test asks for one.
            "audit": AuditSettings(checkpoint_interval_seconds=60, commit_timeout_seconds=5, stop_timeout_seconds=5),
        }
    )
    engine = create_engine(scratch_dsn, pool_size=5, application_name="audit-test")
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(text("DELETE FROM audit_entry"))
        await connection.execute(text("DELETE FROM audit_checkpoint"))
        await connection.execute(text("DELETE FROM audit_head"))
        await connection.execute(
            text("INSERT INTO audit_head (id, seq, hash, updated_at) VALUES (1, 0, :genesis, now())"),
            {"genesis": GENESIS_HASH},
        )
    async with AsyncSession(engine) as session, session.begin():
        await keys.ensure_active(session, scratch_settings)
    state = Scratch(dsn=scratch_dsn, engine=engine, settings=scratch_settings)
    try:
        yield state
    finally:
        for log in state.logs:
            await log.stop()
        for other in state.engines:
            await other.dispose()
        await engine.dispose()
