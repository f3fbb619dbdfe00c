"""Gateway test fixtures: a migrated database, one running app per session, a rolled-back transaction per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from onesource.gateway.departments.uscc import check_character
from onesource.gateway.main import create_app
from onesource.gateway.settings import Settings
from onesource.kit.testing.plugin import Infrastructure, api_client, prepare_service_database, rolled_back, running_app

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
ADMIN_SECRET = "test-bootstrap-admin-secret"
#: The public client that signs people in, in every gateway test (the portal's callback).
PORTAL_REDIRECT = "http://portal.test/auth/callback"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def gateway_database(infrastructure: Infrastructure) -> str:
    return await prepare_service_database(infrastructure, "gateway", MIGRATIONS)


@pytest.fixture(scope="session")
def settings(gateway_database: str, infrastructure: Infrastructure) -> Settings:
    return Settings(
        database_url=SecretStr(gateway_database),
        bootstrap_admin_secret=SecretStr(ADMIN_SECRET),
        relay_enabled=False,
        kafka=infrastructure.kafka,
        # Tests change clients inside rolled-back transactions that a reload from the table would not see; the
        # router updates this process's list at once, which is what they check.
        revocation_refresh_seconds=60,
        # One address (the test transport's) makes every test's failed logins; the throttle tests use their own.
        login_failure_threshold=100,
        oidc_clients={"portal": [PORTAL_REDIRECT]},
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def gateway_app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with running_app(create_app(settings)) as app:
        yield app


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def admin_token(gateway_app: FastAPI) -> str:
    """A token of the bootstrapped admin (issuing one writes nothing, so it outlives every test's rollback)."""
    async with api_client(gateway_app) as http:
        response = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "admin", "client_secret": ADMIN_SECRET},
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest_asyncio.fixture(loop_scope="session")
async def connection(gateway_app: FastAPI) -> AsyncIterator[AsyncConnection]:
    async with rolled_back(gateway_app) as connection:
        yield connection


@pytest_asyncio.fixture(loop_scope="session")
async def client(gateway_app: FastAPI, connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(gateway_app) as http:
        yield http


@pytest.fixture
def admin(admin_token: str) -> dict[str, str]:
    """``Authorization`` header of the admin."""
    return {"Authorization": f"Bearer {admin_token}"}


def uscc(organisation: str) -> str:
    """A valid USCC for a 9-character organisation code, registered in Beijing (110000)."""
    body = "91110000" + organisation
    assert len(body) == 17, organisation
    return body + check_character(body)


class Identity:
    """Drives the identity API of the app under test as the admin."""

    def __init__(self, http: httpx.AsyncClient, admin: dict[str, str]) -> None:
        self.http = http
        self.admin = admin

    async def token(self, client_id: str, secret: str) -> httpx.Response:
        """Ask the token endpoint with form credentials."""
        return await self.http.post(
            "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        )

    async def bearer(self, client_id: str, secret: str) -> dict[str, str]:
        """``Authorization`` header for a client, from a real token."""
        response = await self.token(client_id, secret)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def department(self, code: str, organisation: str) -> dict[str, Any]:
        """Register a department and return it."""
        response = await self.http.post(
            "/api/identity/v1/departments",
            json={"code": code, "name": f"{code} bureau", "uscc": uscc(organisation)},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def client(self, department: str, roles: list[str], client_id: str | None = None) -> dict[str, Any]:
        """Register a client and return it with its secret."""
        payload: dict[str, Any] = {"department": department, "name": "test system", "roles": roles}
        if client_id is not None:
            payload["client_id"] = client_id
        response = await self.http.post("/api/identity/v1/clients", json=payload, headers=self.admin)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def person(self, department: str, roles: list[str], username: str, password: str) -> dict[str, Any]:
        """Give a person an account with ``password`` and return it."""
        payload = {"username": username, "department": department, "name": "张三", "roles": roles, "password": password}
        response = await self.http.post("/api/identity/v1/people", json=payload, headers=self.admin)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def identity(client: httpx.AsyncClient, admin: dict[str, str]) -> Identity:
    """The identity API driver, inside this test's rolled-back transaction."""
    return Identity(client, admin)
