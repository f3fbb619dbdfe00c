"""Population test fixtures: a migrated database, the app, a rolled-back transaction per test, callers' tokens."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from onesource.kit.auth import GATEWAY_ROLE
from onesource.kit.outbox import Renderer
from onesource.kit.testing.plugin import Infrastructure, api_client, prepare_service_database, rolled_back, running_app
from onesource.kit.testing.tokens import TestTokens
from onesource.population.demo import PersonFactory
from onesource.population.main import RENDERERS, create_app
from onesource.population.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
OWNER = "psb"
PERSONS = "/v1/persons"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def population_database(infrastructure: Infrastructure) -> str:
    return await prepare_service_database(infrastructure, "population", MIGRATIONS)


@pytest.fixture(scope="session")
def settings(population_database: str, infrastructure: Infrastructure) -> Settings:
    return Settings(
        environment="test",
        database_url=SecretStr(population_database),
        kafka=infrastructure.kafka,
        owner_department=OWNER,
        relay_poll_seconds=0.2,
        import_batch_rows=1000,
        import_progress_seconds=0.0,
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def population_app(settings: Settings, tokens: TestTokens) -> AsyncIterator[FastAPI]:
    async with running_app(create_app(settings), tokens) as app:
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def connection(population_app: FastAPI) -> AsyncIterator[AsyncConnection]:
    async with rolled_back(population_app) as connection:
        yield connection


@pytest_asyncio.fixture(loop_scope="session")
async def client(population_app: FastAPI, connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app inside this test's rolled-back transaction."""
    async with api_client(population_app) as http:
        yield http


@pytest_asyncio.fixture(loop_scope="session")
async def committing_client(population_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app whose requests commit for real (for concurrency and relay tests)."""
    async with api_client(population_app) as http:
        yield http


@pytest.fixture
def registrar(tokens: TestTokens) -> dict[str, str]:
    """A registrar of the owning department."""
    return tokens.headers("psb-registrar", OWNER, ["registrar"])


@pytest.fixture
def owner_consumer(tokens: TestTokens) -> dict[str, str]:
    """A consumer client of the owning department (reads, cannot write)."""
    return tokens.headers("psb-app", OWNER, ["consumer"])


@pytest.fixture
def foreign_registrar(tokens: TestTokens) -> dict[str, str]:
    """A registrar of another department."""
    return tokens.headers("amr-registrar", "amr", ["registrar"])


@pytest.fixture
def foreign_consumer(tokens: TestTokens) -> dict[str, str]:
    """A consumer of another department, calling the registry directly (not through the gateway)."""
    return tokens.headers("mca-app", "mca", ["consumer"])


@pytest.fixture
def gateway(tokens: TestTokens) -> dict[str, str]:
    """The gateway's service token, acting for a consumer under a grant."""
    return tokens.headers("gateway", "mca", [GATEWAY_ROLE])


@pytest.fixture
def factory(request: pytest.FixtureRequest) -> PersonFactory:
    """Valid synthetic persons, different in every test (so committed rows never collide)."""
    return PersonFactory(seed=zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def outbox_renderers() -> Mapping[str, Renderer]:
    """The registry's renderers: an import's registrations are deferred events (``imports.events``)."""
    return RENDERERS
