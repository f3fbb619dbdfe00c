"""Geo test fixtures: a migrated PostGIS database, the app, a rolled-back transaction per test, callers' tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from onesource.geo.main import create_app
from onesource.geo.settings import Settings
from onesource.kit.auth import GATEWAY_ROLE
from onesource.kit.testing.plugin import Infrastructure, api_client, prepare_service_database, rolled_back, running_app
from onesource.kit.testing.tokens import TestTokens

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
OWNER = "nrb"
#: The registry's clock in tests: rules about today (a county that exists, a retirement not in the future) use it.
TODAY = date(2025, 6, 1)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def geo_database(postgis_infrastructure: Infrastructure) -> str:
    return await prepare_service_database(postgis_infrastructure, "geo", MIGRATIONS)


@pytest.fixture(scope="session")
def settings(geo_database: str, postgis_infrastructure: Infrastructure) -> Settings:
    return Settings(
        environment="test",
        database_url=SecretStr(geo_database),
        kafka=postgis_infrastructure.kafka,
        owner_department=OWNER,
        relay_poll_seconds=0.2,
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def geo_app(settings: Settings, tokens: TestTokens) -> AsyncIterator[FastAPI]:
    async with running_app(create_app(settings), tokens) as app:
        app.state.today = lambda: TODAY
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def connection(geo_app: FastAPI) -> AsyncIterator[AsyncConnection]:
    async with rolled_back(geo_app) as connection:
        yield connection


@pytest_asyncio.fixture(loop_scope="session")
async def client(geo_app: FastAPI, connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app inside this test's rolled-back transaction."""
    async with api_client(geo_app) as http:
        yield http


@pytest_asyncio.fixture(loop_scope="session")
async def committing_client(geo_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app whose requests commit for real."""
    async with api_client(geo_app) as http:
        yield http


@pytest.fixture
def registrar(tokens: TestTokens) -> dict[str, str]:
    """A registrar of the owning department."""
    return tokens.headers("nrb-registrar", OWNER, ["registrar"])


@pytest.fixture
def owner_consumer(tokens: TestTokens) -> dict[str, str]:
    """A consumer client of the owning department (reads, cannot write)."""
    return tokens.headers("nrb-app", OWNER, ["consumer"])


@pytest.fixture
def foreign_registrar(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("amr-registrar", "amr", ["registrar"])


@pytest.fixture
def foreign_consumer(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("mca-app", "mca", ["consumer"])


@pytest.fixture
def gateway(tokens: TestTokens) -> dict[str, str]:
    """The gateway's service token, acting for a consumer under a grant."""
    return tokens.headers("gateway", "mca", [GATEWAY_ROLE])
