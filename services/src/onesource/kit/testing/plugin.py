"""Pytest plugin: real PostgreSQL and Kafka for every test worker, and helpers to run apps against them."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from onesource.kit.embedded import EmbeddedKafka, EmbeddedPostgres, find_free_port, postgis
from onesource.kit.migrations import upgrade
from onesource.kit.outbox import Renderer
from onesource.kit.settings import KafkaSettings
from onesource.kit.testing.kafka import TopicReader
from onesource.kit.testing.outbox import events_about
from onesource.kit.testing.tokens import TestTokens

DATABASE_ENV = "ONESOURCE_TEST_DATABASE_URL"
POSTGIS_DATABASE_ENV = "ONESOURCE_TEST_POSTGIS_DATABASE_URL"
KAFKA_ENV = "ONESOURCE_KAFKA_BOOTSTRAP"


@dataclass
class Infrastructure:
    """The servers this test worker uses; embedded ones are started and stopped by the plugin."""

    admin_dsn: str
    """libpq DSN of a database on the server where tests may create and drop databases."""
    kafka: KafkaSettings
    postgres: EmbeddedPostgres | None
    broker: EmbeddedKafka | None

    def async_dsn(self, database: str) -> str:
        """SQLAlchemy asyncpg DSN of ``database`` on the test server."""
        base = self.admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        return f"{base}/{database}"

    async def recreate_database(self, name: str) -> str:
        """Drop and create ``name``; returns its async DSN."""
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise ValueError(f"unsafe database name {name!r}")
        connection = await asyncpg.connect(self.admin_dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return self.async_dsn(name)


def worker_suffix() -> str:
    """``gw0``… under pytest-xdist, ``main`` otherwise: keeps workers' databases apart."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


async def prepare_service_database(infrastructure: Infrastructure, service: str, migrations_dir: Path) -> str:
    """A fresh, migrated database for one service on this worker; returns its async DSN."""
    dsn = await infrastructure.recreate_database(f"test_{service.replace('-', '_')}_{worker_suffix()}")
    await asyncio.to_thread(upgrade, migrations_dir, dsn)
    return dsn


@contextmanager
def provisioned(scratch: Path) -> Iterator[Infrastructure]:
    """PostgreSQL and a Kafka-protocol broker: the ones named by the environment, else embedded ones in ``scratch``.

    Embedded servers listen on free ports and are stopped on exit; named ones are only used.
    """
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedKafka | None = None
    admin_dsn = os.environ.get(DATABASE_ENV)
    bootstrap = os.environ.get(KAFKA_ENV)
    try:
        if not admin_dsn:
            postgres = EmbeddedPostgres(scratch / "postgres", port=find_free_port())
            postgres.start()
            admin_dsn = postgres.admin_dsn()
        if bootstrap:
            kafka = KafkaSettings(bootstrap=bootstrap)
        else:
            broker = EmbeddedKafka(port=find_free_port(), log_path=scratch / "tansu.log")
            broker.start()
            kafka = KafkaSettings(
                bootstrap=broker.bootstrap, idempotence=False, session_timeout_ms=1500, heartbeat_interval_ms=500
            )
        yield Infrastructure(admin_dsn=admin_dsn, kafka=kafka, postgres=postgres, broker=broker)
    finally:
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.discard()


@pytest.fixture(scope="session")
def infrastructure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infrastructure]:
    """PostgreSQL and broker of the test worker (see :func:`provisioned`)."""
    with provisioned(tmp_path_factory.mktemp("infrastructure")) as servers:
        yield servers


@pytest.fixture(scope="session")
def postgis_infrastructure(
    infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Infrastructure]:
    """A PostgreSQL with PostGIS for the tests that need one (geo-db), beside the worker's broker.

    The server ``ONESOURCE_TEST_POSTGIS_DATABASE_URL`` names, else an embedded one run from the machine's
    PostgreSQL with PostGIS — installed first from the distribution's packages when missing and we are root; a
    machine that has none and cannot install one fails these tests with what to install.
    """
    admin_dsn = os.environ.get(POSTGIS_DATABASE_ENV)
    if admin_dsn:
        yield Infrastructure(admin_dsn=admin_dsn, kafka=infrastructure.kafka, postgres=None, broker=None)
        return
    binaries, _ = postgis()
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgis") / "postgres", port=find_free_port(), binaries=binaries)
    server.start()
    try:
        yield Infrastructure(admin_dsn=server.admin_dsn(), kafka=infrastructure.kafka, postgres=server, broker=None)
    finally:
        server.discard()


@pytest.fixture(scope="session")
def topic_reader(infrastructure: Infrastructure) -> TopicReader:
    """Reads topics of the test broker from the beginning."""
    return TopicReader(infrastructure.kafka.bootstrap)


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    """Issues gateway-shaped tokens that apps under test trust (see :func:`running_app`)."""
    return TestTokens()


@pytest.fixture
def outbox_renderers() -> Mapping[str, Renderer]:
    """The renderers of the service under test's deferred events (a service that defers some overrides this)."""
    return {}


@pytest.fixture
def events(
    connection: AsyncConnection, outbox_renderers: Mapping[str, Renderer]
) -> Callable[[str], Awaitable[list[dict[str, Any]]]]:
    """The CloudEvents the outbox holds about one subject, oldest first, as the relay would publish them.

    Reads inside the test's transaction: a service's tests define ``connection`` (see :func:`rolled_back`).
    """
    return lambda subject: events_about(connection, subject, outbox_renderers)


@asynccontextmanager
async def running_app(app: FastAPI, tokens: TestTokens | None = None) -> AsyncIterator[FastAPI]:
    """Run the app's lifespan; with ``tokens``, make it trust the test issuer."""
    async with app.router.lifespan_context(app):
        if tokens is not None:
            app.state.token_verifier = tokens.verifier()
        yield app


@asynccontextmanager
async def rolled_back(app: FastAPI) -> AsyncIterator[AsyncConnection]:
    """Bind the app's sessions to one outer transaction that is rolled back at the end of the test."""
    original, original_reader, original_reading = app.state.sessionmaker, app.state.reader, app.state.reading

    @asynccontextmanager
    async def reading_in_test() -> AsyncIterator[asyncpg.Connection]:
        yield (await connection.get_raw_connection()).driver_connection

    async with app.state.engine.connect() as connection:
        transaction = await connection.begin()
        app.state.sessionmaker = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        app.state.reading = reading_in_test
        app.state.reader = (await connection.get_raw_connection()).driver_connection
        try:
            yield connection
        finally:
            app.state.sessionmaker, app.state.reader, app.state.reading = original, original_reader, original_reading
            if transaction.is_active:
                await transaction.rollback()


def api_client(app: FastAPI, **headers: str) -> httpx.AsyncClient:
    """An HTTP client talking to the app in-process."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://testserver",
        headers=headers,
    )
