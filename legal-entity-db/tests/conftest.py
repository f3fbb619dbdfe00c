"""Legal-entity test fixtures: a migrated database, the app, a rolled-back transaction per test, callers' tokens,
and a real population app behind a stand-in for the gateway (for the check of legal representatives)."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from onesource.kit.auth import GATEWAY_ROLE
from onesource.kit.outbox import Renderer
from onesource.kit.testing.plugin import Infrastructure, api_client, prepare_service_database, rolled_back, running_app
from onesource.kit.testing.tokens import TestTokens
from onesource.legal_entity.demo import EntityFactory
from onesource.legal_entity.imports import RENDERERS
from onesource.legal_entity.main import create_app
from onesource.legal_entity.representatives import RepresentativeCheck
from onesource.legal_entity.settings import PERSONS_PATH, REPRESENTATIVE_CHECK_PURPOSE, Settings
from onesource.population.demo import PersonFactory
from onesource.population.main import create_app as create_population_app
from onesource.population.settings import Settings as PopulationSettings
from onesource.registry.platform import PlatformClient
from onesource.registry.settings import PlatformSettings
from onesource.standards.citizen_id import embedded_birth_date

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
POPULATION_MIGRATIONS = Path(__file__).resolve().parents[2] / "population-db" / "migrations"
OWNER = "amr"
ENTITIES = "/v1/entities"
CLIENT_ID = "amr-legal-entity"
CLIENT_SECRET = "standin-secret"
GATEWAY_URL = "http://gateway.test"

# A stand-in for the gateway's door to population-db, for the registry's own tests. It does what the gateway does on
# the registry's calls, and no more: issues the registry's client a token for its secret, requires the purpose of the
# registry's grant, forwards a person read to a *real* population app with a gateway token, masks the answer to the
# grant's fields and turns a 404 into ``record-not-found``. Switches make it answer as the gateway does when it cannot
# help (population down, no grant). The check through the real gateway and the real population registry is tested on
# the running mesh (``tests/test_legal_entity.py``).
PROBLEMS = "https://onesource.gov.cn/problems/"


def _problem(status: int, slug: str) -> JSONResponse:
    return JSONResponse(
        {"type": PROBLEMS + slug, "title": slug, "status": status, "detail": slug},
        status_code=status,
        media_type="application/problem+json",
    )


@dataclass
class GatewayStandIn:
    """The gateway as the registry's client sees it, in front of a real population app."""

    population: FastAPI
    tokens: TestTokens
    client_id: str
    secret: str
    department: str
    purpose: str
    fields: frozenset[str] = frozenset({"id_number", "deceased"})
    population_down: bool = False
    granted: bool = True
    reads: list[str] = field(default_factory=list)
    """ID numbers asked about, in order."""
    tokens_issued: int = 0

    def app(self) -> FastAPI:
        """The stand-in as an ASGI app."""
        app = FastAPI()

        @app.post("/oauth/token")
        async def token(request: Request) -> JSONResponse:
            auth = request.headers.get("authorization", "")
            expected = httpx.BasicAuth(self.client_id, self.secret)._auth_header
            if auth != expected:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            self.tokens_issued += 1
            issued = self.tokens.issue(self.client_id, self.department, ["consumer"])
            return JSONResponse({"access_token": issued, "token_type": "Bearer", "expires_in": 300})

        @app.get("/api/population/v1/persons/{id_number}")
        async def person(id_number: str, request: Request) -> JSONResponse:
            if not request.headers.get("authorization", "").startswith("Bearer "):
                return _problem(401, "unauthorized")
            purpose = request.headers.get("x-onesource-purpose")
            if purpose is None:
                return _problem(400, "purpose-required")
            if not self.granted:
                return _problem(403, "no-grant")
            if unquote(purpose) != self.purpose:
                return _problem(403, "purpose-mismatch")
            self.reads.append(id_number)
            if self.population_down:
                return _problem(502, "upstream-unavailable")
            as_gateway = self.tokens.headers("gateway", self.department, [GATEWAY_ROLE])
            transport = httpx.ASGITransport(app=self.population)
            async with httpx.AsyncClient(transport=transport, base_url="http://population") as upstream:
                answer = await upstream.get(f"/v1/persons/{id_number}", headers=as_gateway)
            if answer.status_code == 404:
                return _problem(404, "record-not-found")
            if answer.status_code != 200:
                return JSONResponse(answer.json(), status_code=answer.status_code)
            record: dict[str, Any] = answer.json()
            return JSONResponse({name: value for name, value in record.items() if name in self.fields})

        return app


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def legal_entity_database(infrastructure: Infrastructure) -> str:
    return await prepare_service_database(infrastructure, "legal-entity", MIGRATIONS)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def population_database(infrastructure: Infrastructure) -> str:
    # not population's own tests' database name: the two suites may share a test worker
    return await prepare_service_database(infrastructure, "population_for_legal_entity", POPULATION_MIGRATIONS)


@pytest.fixture
def outbox_renderers() -> Mapping[str, Renderer]:
    """The registry's renderers: an import's registrations are deferred events (``registry.imports.loading``)."""
    return RENDERERS


@pytest.fixture(scope="session")
def settings(legal_entity_database: str, infrastructure: Infrastructure) -> Settings:
    return Settings(
        environment="test",
        database_url=SecretStr(legal_entity_database),
        kafka=infrastructure.kafka,
        owner_department=OWNER,
        relay_poll_seconds=0.2,
        import_batch_rows=50,
        import_workers=1,
        import_progress_seconds=0.0,
        platform=PlatformSettings(gateway_url=GATEWAY_URL, client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET)),
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def population_app(
    population_database: str, infrastructure: Infrastructure, tokens: TestTokens
) -> AsyncIterator[FastAPI]:
    settings = PopulationSettings(
        environment="test",
        database_url=SecretStr(population_database),
        kafka=infrastructure.kafka,
        relay_enabled=False,
        import_workers=1,
    )
    async with running_app(create_population_app(settings), tokens) as app:
        yield app


@pytest.fixture(scope="session")
def gateway(population_app: FastAPI, tokens: TestTokens) -> GatewayStandIn:
    return GatewayStandIn(
        population=population_app,
        tokens=tokens,
        client_id=CLIENT_ID,
        secret=CLIENT_SECRET,
        department=OWNER,
        purpose=REPRESENTATIVE_CHECK_PURPOSE,
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def legal_entity_app(settings: Settings, tokens: TestTokens, gateway: GatewayStandIn) -> AsyncIterator[FastAPI]:
    async with running_app(create_app(settings), tokens) as app:
        # The registry's HTTP client reaches the stand-in instead of a network; everything else is the app's own.
        network = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app()))
        platform = PlatformClient(settings.platform, network)
        app.state.representative_check = RepresentativeCheck(platform, PERSONS_PATH, REPRESENTATIVE_CHECK_PURPOSE)
        try:
            yield app
        finally:
            await network.aclose()


@pytest.fixture(autouse=True)
def gateway_in_order(gateway: GatewayStandIn) -> None:
    """Every test starts with the stand-in gateway answering."""
    gateway.population_down = False
    gateway.granted = True


@pytest_asyncio.fixture(loop_scope="session")
async def connection(legal_entity_app: FastAPI) -> AsyncIterator[AsyncConnection]:
    async with rolled_back(legal_entity_app) as connection:
        yield connection


@pytest_asyncio.fixture(loop_scope="session")
async def client(legal_entity_app: FastAPI, connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app inside this test's rolled-back transaction."""
    async with api_client(legal_entity_app) as http:
        yield http


@pytest_asyncio.fixture(loop_scope="session")
async def committing_client(legal_entity_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app whose requests commit for real (for the findings consumer and concurrency)."""
    async with api_client(legal_entity_app) as http:
        yield http


@pytest.fixture
def registrar(tokens: TestTokens) -> dict[str, str]:
    """A registrar of the owning department."""
    return tokens.headers("amr-registrar", OWNER, ["registrar"])


@pytest.fixture
def steward(tokens: TestTokens) -> dict[str, str]:
    """A steward of the owning department (reads reports, cannot write)."""
    return tokens.headers("amr-steward", OWNER, ["steward"])


@pytest.fixture
def foreign_registrar(tokens: TestTokens) -> dict[str, str]:
    """A registrar of another department."""
    return tokens.headers("psb-registrar", "psb", ["registrar"])


@pytest.fixture
def foreign_consumer(tokens: TestTokens) -> dict[str, str]:
    """A consumer of another department, calling the registry directly (not through the gateway)."""
    return tokens.headers("mca-app", "mca", ["consumer"])


@pytest.fixture
def through_gateway(tokens: TestTokens) -> dict[str, str]:
    """The gateway's service token, acting for a consumer under a grant."""
    return tokens.headers("gateway", "mca", [GATEWAY_ROLE])


class People:
    """Persons registered for real in the population app (its registrar's calls), as representatives."""

    def __init__(self, population: httpx.AsyncClient, registrar: dict[str, str], factory: PersonFactory) -> None:
        self.population = population
        self.registrar = registrar
        self.factory = factory

    def _adult(self) -> dict[str, Any]:
        while True:
            person = {**self.factory.person(), "death_date": None}
            person.pop("death_date")
            born = embedded_birth_date(person["id_number"])
            if born is not None and born < date.today() - timedelta(days=365 * 19):
                return person

    async def living(self) -> str:
        """A newly registered living adult's ID number."""
        person = self._adult()
        registered = await self.population.post("/v1/persons", json=person, headers=self.registrar)
        assert registered.status_code == 201, registered.text
        return str(person["id_number"])

    async def deceased(self) -> str:
        """A newly registered adult whose death is registered too."""
        id_number = await self.living()
        died = await self.population.post(
            f"/v1/persons/{id_number}/death", json={"death_date": "2025-06-01"}, headers=self.registrar
        )
        assert died.status_code == 200, died.text
        return id_number

    def unknown(self) -> str:
        """A valid ID number of an adult nobody registered."""
        return str(self._adult()["id_number"])


@pytest_asyncio.fixture(loop_scope="session")
async def people(population_app: FastAPI, tokens: TestTokens, request: pytest.FixtureRequest) -> AsyncIterator[People]:
    """Persons in the population app, different in every test (they are committed: the apps are separate)."""
    async with api_client(population_app) as population:
        yield People(
            population,
            tokens.headers("psb-registrar", "psb", ["registrar"]),
            PersonFactory(seed=zlib.crc32(request.node.nodeid.encode())),
        )


@pytest.fixture
def entity_factory(request: pytest.FixtureRequest) -> Callable[..., EntityFactory]:
    """Valid synthetic entities, different in every test, represented by the ID numbers given."""
    seed = zlib.crc32(request.node.nodeid.encode())
    return lambda *representatives: EntityFactory(seed, list(representatives))
