"""Macroeconomy test fixtures: a migrated database, the app, a rolled-back transaction per test, callers' tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from onesource.kit.auth import GATEWAY_ROLE
from onesource.kit.testing.plugin import Infrastructure, api_client, prepare_service_database, rolled_back, running_app
from onesource.kit.testing.tokens import TestTokens
from onesource.macroeconomy.main import create_app
from onesource.macroeconomy.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
SCHEMAS = Path(__file__).resolve().parent / "data" / "schemas"
OWNER = "stats"
CSV = "application/vnd.sdmx.data+csv;version=2.0.0"
JSON = "application/vnd.sdmx.data+json;version=2.0.0"
HEADER = (
    "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,INDICATOR,PRICE_BASIS,TIME_PERIOD,OBS_VALUE,OBS_STATUS,"
    "UNIT_MEASURE,UNIT_MULT,DECIMALS"
)


def _gdp_csv(*rows: tuple[str, str, str, str, str, str, str], header: str = HEADER) -> bytes:
    """An SDMX-CSV 2.0 load of GDP_Q rows (FREQ, REF_AREA, INDICATOR, PRICE_BASIS, TIME_PERIOD, value, status)."""
    lines = [header]
    for freq, area, indicator, basis, period, value, status in rows:
        lines.append(
            f"dataflow,CN_STATS:GDP_Q(1.0.0),I,{freq},{area},{indicator},{basis},{period},{value},{status},CNY,8,2"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def macroeconomy_database(infrastructure: Infrastructure) -> str:
    return await prepare_service_database(infrastructure, "macroeconomy", MIGRATIONS)


@pytest.fixture(scope="session")
def settings(macroeconomy_database: str, infrastructure: Infrastructure) -> Settings:
    return Settings(
        environment="test",
        database_url=SecretStr(macroeconomy_database),
        kafka=infrastructure.kafka,
        owner_department=OWNER,
        relay_poll_seconds=0.2,
        release_poll_seconds=3600,  # tests release with release_once, at the time they choose
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def macroeconomy_app(settings: Settings, tokens: TestTokens) -> AsyncIterator[FastAPI]:
    async with running_app(create_app(settings), tokens) as app:
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def connection(macroeconomy_app: FastAPI) -> AsyncIterator[AsyncConnection]:
    async with rolled_back(macroeconomy_app) as connection:
        yield connection


@pytest_asyncio.fixture(loop_scope="session")
async def client(macroeconomy_app: FastAPI, connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app inside this test's rolled-back transaction."""
    async with api_client(macroeconomy_app) as http:
        yield http


@pytest.fixture
def registrar(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("stats-registrar", OWNER, ["registrar"])


@pytest.fixture
def owner_consumer(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("stats-app", OWNER, ["consumer"])


@pytest.fixture
def foreign_consumer(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("mca-app", "mca", ["consumer"])


@pytest.fixture
def gateway(tokens: TestTokens) -> dict[str, str]:
    """The gateway acting for a department without pre-release access."""
    return tokens.headers("gateway", "mca", [GATEWAY_ROLE])


@pytest.fixture
def gateway_prerelease(tokens: TestTokens) -> dict[str, str]:
    """The gateway acting for a department with a grant on the pre-release resource."""
    return {**tokens.headers("gateway", "ndrc", [GATEWAY_ROLE]), "X-OneSource-Prerelease": "granted"}


def later(days: int = 30) -> str:
    """A release time in the future."""
    from datetime import timedelta

    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def gdp_csv():
    """Builds SDMX-CSV 2.0 loads of GDP_Q rows (see ``_gdp_csv``)."""
    return _gdp_csv
