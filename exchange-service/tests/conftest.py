"""Exchange test fixtures: a migrated database, one running app per session, a rolled-back transaction per test.

The app runs with its catalog consumer, projector, relay and delivery listener against the real broker. The
catalog's HTTP API is a fake behind ``httpx.MockTransport``. Tests that exercise the projector commit for real
(it runs in its own transactions) and keep apart by using their own departments, resources and topics.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from onesource.exchange.main import create_app
from onesource.exchange.resources import repository as resources
from onesource.exchange.resources.schemas import RegistryDocument, ResourceDocument
from onesource.exchange.settings import Settings
from onesource.kit.events import registry_of_topic
from onesource.kit.kafka import create_producer, start_client
from onesource.kit.testing.plugin import Infrastructure, api_client, prepare_service_database, rolled_back, running_app
from onesource.kit.testing.tokens import TestTokens

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
CATALOG_URL = "http://catalog.test"

PERSON_FIELDS = [
    "id_number",
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "deceased",
    "household_region_code",
    "household_address",
    "marital_status",
]


def unique(prefix: str) -> str:
    """A short unique slug, so committed tests never share departments, resources or topics."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def resource_document(
    resource_id: str,
    *,
    provider: str = "psb",
    share_type: str = "unconditional",
    fields: list[str] | None = None,
    topic: str | None = None,
    version: int = 1,
    status: str = "published",
    legal_basis: str | None = None,
) -> dict[str, Any]:
    """A catalog resource document as the catalog's events carry it."""
    return {
        "id": resource_id,
        "code": "A01/001",
        "name": resource_id,
        "summary": "test resource",
        "provider": provider,
        "category": "base",
        "format": "json",
        "update_cycle": "realtime",
        "share_type": share_type,
        "share_condition": "for entitled purposes" if share_type == "conditional" else None,
        "legal_basis": legal_basis,
        "open_to_public": False,
        "open_condition": None,
        "service": "population",
        "paths": ["/v1/persons/{id_number}"],
        "key": "id_number",
        "topic": topic or f"onesource.{resource_id}.v1",
        "status": status,
        "version": version,
        "fields": [
            {
                "name": name,
                "element": f"person.{name}",
                "data_type": "C",
                "length": 64,
                "description": name,
                "authoritative": True,
                "source_element": None,
            }
            for name in (fields or PERSON_FIELDS)
        ],
        "published_at": "2026-01-05T00:00:00Z",
        "updated_at": "2026-01-05T00:00:00Z",
    }


class FakeCatalog:
    """The catalog's ``GET /v1/resources/{id}``, answering from a dict; records the tokens it was called with."""

    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str | None]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        prefix = "/v1/resources/"
        if request.method != "GET" or not request.url.path.startswith(prefix):
            return httpx.Response(404, json={"status": 404})
        resource_id = request.url.path[len(prefix) :]
        self.calls.append((resource_id, request.headers.get("authorization")))
        document = self.documents.get(resource_id)
        if document is None:
            return httpx.Response(404, json={"status": 404, "type": "resource-not-found"})
        return httpx.Response(200, json=document)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def exchange_database(infrastructure: Infrastructure) -> str:
    return await prepare_service_database(infrastructure, "exchange", MIGRATIONS)


@pytest.fixture(scope="session")
def settings(exchange_database: str, infrastructure: Infrastructure) -> Settings:
    return Settings(
        database_url=SecretStr(exchange_database),
        kafka=infrastructure.kafka,
        catalog_url=CATALOG_URL,
        projector_refresh_seconds=0.3,
        sweep_seconds=3600,
        relay_poll_seconds=0.2,
        feed_poll_seconds=0.2,
    )


@pytest.fixture(scope="session")
def fake_catalog() -> FakeCatalog:
    return FakeCatalog()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def exchange_app(settings: Settings, tokens: TestTokens, fake_catalog: FakeCatalog) -> AsyncIterator[FastAPI]:
    async with running_app(create_app(settings), tokens) as app:
        original = app.state.http
        async with httpx.AsyncClient(transport=httpx.MockTransport(fake_catalog.handle)) as catalog_http:
            app.state.http = catalog_http
            try:
                yield app
            finally:
                app.state.http = original


@pytest_asyncio.fixture(loop_scope="session")
async def connection(exchange_app: FastAPI) -> AsyncIterator[AsyncConnection]:
    async with rolled_back(exchange_app) as connection:
        yield connection


@pytest_asyncio.fixture(loop_scope="session")
async def client(exchange_app: FastAPI, connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    """An API client whose every change is rolled back after the test."""
    async with api_client(exchange_app) as http:
        yield http


@pytest_asyncio.fixture(loop_scope="session")
async def committed_client(exchange_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An API client whose changes commit (for the projector, which works in its own transactions)."""
    async with api_client(exchange_app) as http:
        yield http


class Callers:
    """``Authorization`` headers of the parties of a test."""

    def __init__(self, tokens: TestTokens) -> None:
        self.tokens = tokens

    def __call__(self, department: str, *roles: str, client_id: str | None = None) -> dict[str, str]:
        return self.tokens.headers(client_id or f"{department}-{'-'.join(roles)}", department, roles)


@pytest.fixture(scope="session")
def callers(tokens: TestTokens) -> Callers:
    return Callers(tokens)


#: Registry versions only move forward; tests hand registries from department to department.
_VERSIONS = itertools.count(1)


@pytest.fixture
def add_resource(exchange_app: FastAPI) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Put a resource into the read model (inside the test's transaction when ``connection`` is in use)."""

    async def add(resource_id: str, *, owned: bool = True, **options: Any) -> dict[str, Any]:
        """``owned``: the provider owns the registry of the resource's topic (as the catalog makes sure)."""
        document = resource_document(resource_id, **options)
        async with exchange_app.state.sessionmaker() as session, session.begin():
            await resources.upsert(session, ResourceDocument.model_validate(document))
            registry = registry_of_topic(document["topic"])
            if owned and registry is not None:
                await resources.upsert_registry(
                    session, RegistryDocument(service=registry, owner=document["provider"], version=next(_VERSIONS))
                )
        return document

    return add


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def producer(infrastructure: Infrastructure) -> AsyncIterator[AIOKafkaProducer]:
    """Publishes source and catalog events to the test broker, as the registries' relays would."""
    kafka_producer = create_producer(infrastructure.kafka, client_id="exchange-tests")
    await start_client(kafka_producer)
    try:
        yield kafka_producer
    finally:
        await kafka_producer.stop()


def cloud_event(
    event_type: str, subject: str, data: dict[str, Any], *, source: str = "/onesource/test"
) -> dict[str, Any]:
    """A CloudEvents 1.0 envelope as a registry publishes it."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "subject": subject,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


async def publish(producer: AIOKafkaProducer, topic: str, event: dict[str, Any]) -> None:
    """Publish one CloudEvent keyed by its subject and wait for the acknowledgement."""
    await producer.send_and_wait(topic, key=event["subject"].encode(), value=json.dumps(event).encode())


@pytest.fixture(scope="session")
def make_document() -> Callable[..., dict[str, Any]]:
    """Builds catalog resource documents (see :func:`resource_document`)."""
    return resource_document


@pytest.fixture(scope="session")
def publisher() -> Callable[[AIOKafkaProducer, str, dict[str, Any]], Awaitable[None]]:
    """Publishes one CloudEvent (see :func:`publish`)."""
    return publish


@pytest.fixture(scope="session")
def event_builder() -> Callable[..., dict[str, Any]]:
    """Builds registry CloudEvents (see :func:`cloud_event`)."""
    return cloud_event
