"""Portal test fixtures: the real gateway app (its own migrated database, one rolled-back transaction per test) and
the portal app calling it in process; pages that need the services behind the gateway use a recorded fake."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr

import onesource.gateway
from onesource.gateway.main import create_app as create_gateway
from onesource.gateway.settings import Settings as GatewaySettings
from onesource.kit.migrations import service_migrations_dir
from onesource.kit.testing.plugin import Infrastructure, prepare_service_database, rolled_back, running_app
from onesource.portal.main import create_app
from onesource.portal.sessions import SESSION_COOKIE, Session
from onesource.portal.settings import Settings

ADMIN_SECRET = "portal-test-admin-secret"
PORTAL = "http://portal.test"
GATEWAY = "http://gateway.test"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def gateway_app(infrastructure: Infrastructure) -> AsyncIterator[FastAPI]:
    dsn = await prepare_service_database(
        infrastructure, "portal_gateway", service_migrations_dir(onesource.gateway.__file__)
    )
    settings = GatewaySettings(
        database_url=SecretStr(dsn),
        bootstrap_admin_secret=SecretStr(ADMIN_SECRET),
        relay_enabled=False,
        kafka=infrastructure.kafka,
        revocation_refresh_seconds=60,
        login_failure_threshold=100,
        public_url=GATEWAY,
        oidc_clients={"portal": [f"{PORTAL}/auth/callback"]},
        # The gateway tests' gateway shares this worker's broker but not this database.
        read_model_group="portal-gateway-read-models",
    )
    async with running_app(create_gateway(settings)) as app:
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def gateway(gateway_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway inside this test's rolled-back transaction."""
    async with rolled_back(gateway_app):
        transport = httpx.ASGITransport(app=gateway_app)
        async with httpx.AsyncClient(transport=transport, base_url=GATEWAY) as http:
            yield http


def portal_settings() -> Settings:
    return Settings(gateway_url=GATEWAY, public_url=PORTAL, environment="test")


@pytest_asyncio.fixture(loop_scope="session")
async def portal(gateway: httpx.AsyncClient, gateway_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The portal calling the real gateway in process; a browser-like client (it keeps cookies)."""
    app = create_app(portal_settings(), gateway_transport=httpx.ASGITransport(app=gateway_app))
    async with running_app(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PORTAL) as http:
        yield http


class Admin:
    """The bootstrapped admin, driving the gateway's identity API."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    async def person(self, username: str, department: str, roles: list[str], password: str) -> None:
        body = {
            "username": username,
            "department": department,
            "name": "测试人员",
            "roles": roles,
            "password": password,
        }
        response = await self.http.post("/api/identity/v1/people", json=body, headers=self.headers)
        assert response.status_code == 201, response.text


@pytest_asyncio.fixture(loop_scope="session")
async def admin(gateway: httpx.AsyncClient) -> Admin:
    response = await gateway.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": "admin", "client_secret": ADMIN_SECRET}
    )
    assert response.status_code == 200, response.text
    return Admin(gateway, response.json()["access_token"])


async def sign_in(
    portal: httpx.AsyncClient, gateway: httpx.AsyncClient, username: str, password: str
) -> httpx.Response:
    """What a browser does: the portal's /login, the gateway's form, back to the callback; the callback's answer."""
    start = await portal.get("/login")
    assert start.status_code == 303
    authorize = urlsplit(start.headers["location"])
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{GATEWAY}/oauth/authorize"
    fields = {name: values[0] for name, values in parse_qs(authorize.query).items()}
    form = await gateway.get("/oauth/authorize", params=fields)
    assert form.status_code == 200, form.text
    posted = await gateway.post("/oauth/authorize", data={**fields, "username": username, "password": password})
    assert posted.status_code == 303, posted.text
    callback = urlsplit(posted.headers["location"])
    return await portal.get(f"{callback.path}?{callback.query}")


def csrf_of(page: str) -> str:
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


Handler = Callable[[httpx.Request], httpx.Response]


class FakeGateway:
    """The gateway's answers to the pages under test, and every request the portal sent it."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Any] = {}
        self.sent: list[httpx.Request] = []

    def answer(self, method: str, path: str, status: int = 200, body: Any = None) -> None:
        self.routes[(method, path)] = (status, body)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        status, body = self.routes.get((request.method, request.url.path), (404, {"title": "Not Found", "status": 404}))
        media = "application/problem+json" if status >= 400 else "application/json"
        return httpx.Response(status, json=body, headers={"content-type": media})


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway()


@pytest_asyncio.fixture(loop_scope="session")
async def portal_with_fake(fake: FakeGateway) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    app = create_app(portal_settings(), gateway_transport=httpx.MockTransport(fake))
    async with running_app(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PORTAL) as http:
        yield http, app


def signed_in_as(
    client: httpx.AsyncClient, app: FastAPI, roles: list[str], department: str = "psb", username: str = "li.na"
) -> Session:
    """Put a session cookie in ``client`` as the portal would after a sign-in."""
    now = time.time()
    session = Session(
        access_token="access-token",
        refresh_token="refresh-token",
        access_expires_at=now + 900,
        username=username,
        name="李娜",
        department=department,
        roles=roles,
        expires_at=now + 3600,
    )
    client.cookies.set(SESSION_COOKIE, app.state.sealer.seal_session(session))
    return session
