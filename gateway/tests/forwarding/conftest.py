"""Forwarding fixtures: real events on the broker for the read models, registries behind the gateway, callers.

The read models are fed the way production feeds them: CloudEvents produced onto the catalog's and the exchange's
topics, consumed by the app's consumer group, committed to the tables, and notified to the in-memory caches.
Those commits are real (not rolled back), so every test works on its own resources, paths and departments.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from onesource.gateway.forwarding.upstream import Upstream, answer, timed_out, unreachable
from onesource.gateway.grants.schemas import GRANT_TOPIC, ISSUED
from onesource.gateway.registries.schemas import ASSIGNED, REGISTRY_TOPIC
from onesource.gateway.resources.schemas import PUBLISHED, RESOURCE_TOPIC
from onesource.kit.events import CloudEvent
from onesource.kit.kafka import create_producer, start_client
from onesource.kit.testing.plugin import Infrastructure
from onesource.kit.testing.waiting import eventually as eventually


def unique(prefix: str) -> str:
    """A short unique slug, so tests that commit never share resources, paths or departments."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def resource_document(
    resource_id: str,
    *,
    provider: str,
    paths: list[str],
    fields: list[str],
    key: str | None = "id_number",
    version: int = 1,
    status: str = "published",
    service: str = "population",
    filters: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A catalog resource document as the catalog's events carry it (every required property of the contract)."""
    return {
        "id": resource_id,
        "code": "1/000001",
        "name": resource_id,
        "summary": "test resource",
        "provider": provider,
        "category": "base",
        "format": "api/json",
        "update_cycle": "realtime",
        "share_type": "unconditional",
        "share_condition": None,
        "legal_basis": None,
        "open_to_public": False,
        "open_condition": None,
        "service": service,
        "paths": paths,
        "key": key,
        "topic": "onesource.population.person.v1",
        "status": status,
        "version": version,
        "fields": [
            {"name": name, "element": f"person.{name}", "data_type": "C", "length": 64, "authoritative": True}
            for name in fields
        ],
        "filters": filters or {},
        "published_at": "2026-01-05T00:00:00Z",
        "updated_at": "2026-01-05T00:00:00Z",
    }


def grant_document(
    *,
    department: str,
    resource: str,
    provider: str,
    fields: list[str],
    purpose: str,
    row_scope: dict[str, list[str]] | None = None,
    valid_for: timedelta = timedelta(days=30),
    status: str = "active",
    grant_id: str | None = None,
) -> dict[str, Any]:
    """A grant document as the exchange's events (and ``GET /v1/grants``) carry it."""
    now = datetime.now(UTC)
    return {
        "id": grant_id or str(uuid.uuid4()),
        "share_request_id": str(uuid.uuid4()),
        "department": department,
        "resource": resource,
        "provider": provider,
        "fields": fields,
        "purpose": purpose,
        "row_scope": row_scope,
        "valid_from": (now - timedelta(minutes=1)).isoformat(),
        "valid_until": (now + valid_for).isoformat(),
        "status": status,
        "revoked_reason": None,
    }


class Broker:
    """Publishes CloudEvents onto the topics the gateway consumes, as the catalog's and exchange's relays do."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def publish(
        self,
        topic: str,
        event_type: str,
        data: dict[str, Any],
        *,
        event_id: str | None = None,
        subject: str | None = None,
    ) -> str:
        """Publish one event keyed by its subject (the document's id unless given); returns the event id."""
        source = "/onesource/exchange" if topic == GRANT_TOPIC else "/onesource/catalog"
        subject = subject or data["id"]
        event = CloudEvent(source=source, type=event_type, subject=subject, data=data)
        if event_id is not None:
            event = event.model_copy(update={"id": event_id})
        await self.producer.send_and_wait(topic, event.model_dump_json().encode(), key=subject.encode())
        return event.id

    async def resource(self, document: dict[str, Any], event_type: str = PUBLISHED) -> str:
        """Publish a catalog resource event."""
        return await self.publish(RESOURCE_TOPIC, event_type, document)

    async def grant(self, document: dict[str, Any], event_type: str = ISSUED) -> str:
        """Publish a grant event."""
        return await self.publish(GRANT_TOPIC, event_type, document)

    async def registry(self, service: str, owner: str, version: int | None = None) -> str:
        """Publish that ``owner`` owns registry ``service`` (as the catalog does when an admin assigns it)."""
        document = {
            "service": service,
            "owner": owner,
            "version": next(_REGISTRY_VERSIONS) if version is None else version,
            "updated_at": "2026-01-05T00:00:00Z",
        }
        return await self.publish(REGISTRY_TOPIC, ASSIGNED, document, subject=service)


#: Registry versions only move forward, and tests hand the same registry from department to department.
_REGISTRY_VERSIONS = itertools.count(1)


async def owned(app: FastAPI, broker: Broker, service: str, owner: str) -> None:
    """Make ``owner`` the owner of registry ``service`` and wait until the gateway knows it."""
    await broker.registry(service, owner)
    models = app.state.read_models

    async def known() -> bool:
        return bool(models.resources.owner_of(service) == owner)

    await eventually(known)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def broker(infrastructure: Infrastructure) -> AsyncIterator[Broker]:
    producer = create_producer(infrastructure.kafka, client_id="gateway-tests")
    await start_client(producer)
    try:
        yield Broker(producer)
    finally:
        await producer.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def caught_up(gateway_app: FastAPI) -> FastAPI:
    """The app, once its read models have caught up (they start with the app, against the test broker)."""
    models = gateway_app.state.read_models

    async def known() -> bool:
        return bool(models.resources_known and models.grants_known)

    await eventually(known, timeout=60)
    return gateway_app


class Callers:
    """``Authorization`` headers of clients, in tokens signed with the gateway's active key (as it issues them)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def token(self, client_id: str, department: str, roles: Iterable[str] = ("consumer",), **claims: Any) -> str:
        signer = self.app.state.gateway_tokens.signer
        settings = self.app.state.settings
        now = int(time.time())
        payload = {
            "iss": settings.issuer,
            "aud": settings.audience,
            "sub": client_id,
            "dept": department,
            "roles": list(roles),
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(payload, signer.key, algorithm="EdDSA", headers={"kid": signer.kid})

    def __call__(
        self, department: str, purpose: str | None = None, *, client_id: str | None = None, roles: Iterable[str] = ()
    ) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.token(client_id or f'{department}-app', department, roles or ['consumer'])}"
        }
        if purpose is not None:
            headers["X-OneSource-Purpose"] = purpose
        return headers


@pytest.fixture
def callers(gateway_app: FastAPI) -> Callers:
    return Callers(gateway_app)


class Registry:
    """A registry behind the gateway (a real ASGI app): records per collection, answered like population-db's.

    ``GET /v1/<collection>/<key>`` answers the record with its version as ``ETag`` (or a 404 problem);
    ``GET /v1/<collection>`` answers ``{"items", "next_cursor"}`` in key order; writes echo what they got.
    Every call is recorded with its headers, so tests see which token reached the registry.
    """

    def __init__(self) -> None:
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.delay = 0.0
        self.answer: Callable[[Request], Response] | None = None
        self.app = FastAPI()
        self.app.add_api_route("/{rest:path}", self._handle, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])

    def add(self, collection: str, *records: dict[str, Any]) -> None:
        """Hold ``records`` (keyed by ``id_number``) in ``collection``, with record metadata added."""
        held = self.records.setdefault(collection, {})
        for record in records:
            held[record["id_number"]] = {
                **record,
                "version": 3,
                "created_at": "2026-01-05T00:00:00Z",
                "updated_at": "2026-02-05T00:00:00Z",
            }

    async def _handle(self, rest: str, request: Request) -> Response:
        self.calls.append(
            (
                request.method,
                request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                dict(request.headers),
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.answer is not None:
            return self.answer(request)
        parts = request.url.path.strip("/").split("/")
        if request.method not in {"GET", "HEAD"}:
            return JSONResponse({"method": request.method, "body": (await request.body()).decode()}, status_code=200)
        if len(parts) == 3 and parts[0] == "v1":
            record = self.records.get(parts[1], {}).get(parts[2])
            if record is None:
                return JSONResponse(
                    {
                        "type": "https://onesource.gov.cn/problems/person-not-found",
                        "title": "Person not found",
                        "status": 404,
                        "detail": f"no person has id_number {parts[2]!r}",
                    },
                    status_code=404,
                    media_type="application/problem+json",
                )
            return JSONResponse(record, headers={"ETag": f'"{record["version"]}"'})
        if len(parts) == 2 and parts[0] == "v1":
            limit = int(request.query_params.get("limit", "50"))
            rows = sorted(self.records.get(parts[1], {}).values(), key=lambda row: row["id_number"])
            return JSONResponse({"items": rows[:limit], "next_cursor": "bmV4dA" if len(rows) > limit else None})
        return JSONResponse({"type": "not-found", "status": 404}, status_code=404)


class Backends(httpx.AsyncBaseTransport):
    """The services behind the gateway in a test: each ``host:port`` answered by an ASGI app or a handler."""

    def __init__(self) -> None:
        self.transports: dict[str, httpx.AsyncBaseTransport] = {}
        self.requests: list[httpx.Request] = []

    def serve(self, base_url: str, app: FastAPI | Callable[[httpx.Request], httpx.Response]) -> None:
        """Answer calls to ``base_url`` with ``app``."""
        netloc = httpx.URL(base_url).netloc.decode()
        transport: httpx.AsyncBaseTransport = (
            httpx.ASGITransport(app=app) if isinstance(app, FastAPI) else httpx.MockTransport(app)
        )
        self.transports[netloc] = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        transport = self.transports.get(request.url.netloc.decode())
        if transport is None:
            raise httpx.ConnectError(f"nothing listens on {request.url.netloc.decode()}", request=request)
        return await transport.handle_async_request(request)


class HttpxUpstreams:
    """The gateway's client of forwarded calls, over an httpx transport, so that they reach in-process services.

    Same contract as the gateway's own (``HttpUpstreams``, tested against a real server in ``test_upstream``).
    """

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes | AsyncIterable[bytes],
        *,
        service: str,
        timeout: float,
    ) -> Upstream:
        try:
            async with asyncio.timeout(timeout):
                response = await self.client.request(method, url, headers=list(headers), content=body or None)
        except (httpx.TimeoutException, TimeoutError) as error:
            raise timed_out(service, error) from None
        except httpx.TransportError as error:
            raise unreachable(service, error) from None
        return answer(response.status_code, response.content, response.headers)

    async def aclose(self) -> None:
        await self.client.aclose()


@contextlib.asynccontextmanager
async def routed(app: FastAPI, transport: httpx.AsyncBaseTransport) -> AsyncIterator[None]:
    """Send the gateway's calls to the services (forwarded calls and the grants fallback) through ``transport``."""
    original = app.state.http, app.state.upstreams
    app.state.http = httpx.AsyncClient(transport=transport)
    app.state.upstreams = HttpxUpstreams(app.state.http)
    try:
        yield
    finally:
        await app.state.http.aclose()
        app.state.http, app.state.upstreams = original


@pytest_asyncio.fixture(loop_scope="session")
async def backends(gateway_app: FastAPI) -> AsyncIterator[Backends]:
    """Replace the gateway's HTTP clients: calls to the services go to :class:`Backends` for this test."""
    fake = Backends()
    async with routed(gateway_app, fake):
        yield fake


@pytest.fixture
def registry(backends: Backends, settings: Any) -> Registry:
    """The population registry behind the gateway."""
    fake = Registry()
    backends.serve(settings.service_urls["population"], fake.app)
    return fake


async def audit_rows(gateway_app: FastAPI, request_id: str) -> list[dict[str, Any]]:
    """The committed ``audit_entry`` rows of one request id."""
    async with gateway_app.state.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT * FROM audit_entry WHERE request_id = :request_id ORDER BY seq"), {"request_id": request_id}
        )
        return [dict(row._mapping) for row in rows]


# --- a registry with two published resources, as most data-call tests use it -------------------------------

PROBLEMS = "https://onesource.gov.cn/problems/"
PURPOSE = "最低生活保障资格审核"
OTHER_PURPOSE = "临时救助对象核查"
BASE_FIELDS = ["id_number", "name", "sex", "birth_date", "deceased"]
EXTENDED_FIELDS = ["id_number", "household_region_code", "household_address", "marital_status"]
PEOPLE = [
    {
        "id_number": "11010519491231002X",
        "name": "张三",
        "sex": "2",
        "birth_date": "1949-12-31",
        "deceased": False,
        "household_region_code": "110105",
        "household_address": "北京市朝阳区",
        "marital_status": "20",
    },
    {
        "id_number": "110101199003077777",
        "name": "李四",
        "sex": "1",
        "birth_date": "1990-03-07",
        "deceased": False,
        "household_region_code": "110101",
        "household_address": "北京市东城区",
        "marital_status": "10",
    },
    {
        "id_number": "310101198001010011",
        "name": "王五",
        "sex": "1",
        "birth_date": "1980-01-01",
        "deceased": True,
        "household_region_code": "310101",
        "household_address": "上海市黄浦区",
        "marital_status": None,
    },
]
ZHANG, LI, WANG = (person["id_number"] for person in PEOPLE)
METADATA = {"version", "created_at", "updated_at"}


def kind(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return str(response.json()["type"]).removeprefix(PROBLEMS)


def encoded(purpose: str) -> str:
    return quote(purpose, safe="")


@dataclass
class World:
    """Two published resources covering the same paths (like population.person and population.person-extended)."""

    app: FastAPI
    broker: Broker
    registry: Registry
    callers: Callers
    collection: str
    provider: str
    base: str
    extended: str

    def path(self, key: str | None = None) -> str:
        return f"/api/population/v1/{self.collection}" + (f"/{key}" if key else "")

    def owner(self, purpose: str = "registry-maintenance") -> dict[str, str]:
        return self.callers(
            self.provider, encoded(purpose), client_id=f"{self.provider}-registrar", roles=["registrar"]
        )

    async def grant(
        self,
        department: str,
        resource: str,
        fields: list[str],
        purpose: str = PURPOSE,
        row_scope: dict[str, list[str]] | None = None,
    ) -> dict[str, Any]:
        """Issue a grant on the broker and wait until the gateway holds it."""
        document = grant_document(
            department=department,
            resource=resource,
            provider=self.provider,
            fields=fields,
            purpose=purpose,
            row_scope=row_scope,
        )
        await self.broker.grant(document)
        models = self.app.state.read_models

        async def held() -> bool:
            return models.grants.get(document["id"]) is not None

        await eventually(held)
        return document


@pytest.fixture
async def world(caught_up: FastAPI, broker: Broker, registry: Registry, callers: Callers) -> World:
    collection, provider = unique("people"), unique("psb")
    paths = [f"/v1/{collection}/{{id_number}}", f"/v1/{collection}"]
    base, extended = f"test.{collection}", f"test.{collection}-extended"
    await owned(caught_up, broker, "population", provider)
    await broker.resource(
        resource_document(
            base, provider=provider, paths=paths, fields=BASE_FIELDS, filters={"born_from": ["birth_date"]}
        )
    )
    extended_filters = {"region": ["household_region_code"]}
    await broker.resource(
        resource_document(extended, provider=provider, paths=paths, fields=EXTENDED_FIELDS, filters=extended_filters)
    )
    models = caught_up.state.read_models

    async def published() -> bool:
        return models.resources.get(base) is not None and models.resources.get(extended) is not None

    await eventually(published)
    registry.add(collection, *PEOPLE)
    return World(caught_up, broker, registry, callers, collection, provider, base, extended)
