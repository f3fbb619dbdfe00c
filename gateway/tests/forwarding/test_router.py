from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from onesource.gateway.forwarding.limits import TokenBuckets

from .conftest import routed

Handler = Callable[[httpx.Request], httpx.Response]


class Upstream:
    """Stands in for the services behind the gateway: records requests and answers with ``handler``."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.handler: Handler = lambda request: httpx.Response(200, json={"ok": True})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


@pytest_asyncio.fixture(loop_scope="session")
async def upstream(gateway_app: FastAPI) -> AsyncIterator[Upstream]:
    fake = Upstream()
    async with routed(gateway_app, httpx.MockTransport(fake)):
        yield fake


async def test_forwards_method_path_query_body_and_headers(client, upstream, settings, admin) -> None:
    upstream.handler = lambda request: httpx.Response(
        201,
        json={"id": "x"},
        headers={
            "ETag": '"3"',
            "Location": "/v1/persons/x",
            "Set-Cookie": "secret=1",
            "Server": "upstream",
            "X-Internal": "no",
            "X-Request-Id": "req-42",
        },
    )
    response = await client.post(
        "/api/catalog/v1/resources/%E4%BA%BA%20a?expand=history&x=1",
        content='{"name": "张三"}'.encode(),
        headers={
            **admin,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "If-Match": '"2"',
            "Idempotency-Key": "k1",
            "X-OneSource-Purpose": "social-assistance",
            "X-Request-Id": "req-42",
            "Cookie": "session=1",
            "X-Other": "dropped",
        },
    )
    assert response.status_code == 201
    assert response.json() == {"id": "x"}
    assert response.headers["etag"] == '"3"'
    assert response.headers["location"] == "/v1/persons/x"
    assert "set-cookie" not in response.headers
    assert "x-internal" not in response.headers
    assert response.headers.get_list("x-request-id") == ["req-42"]

    [sent] = upstream.requests
    assert sent.method == "POST"
    assert str(sent.url).startswith(settings.service_urls["catalog"])
    assert sent.url.raw_path == b"/v1/resources/%E4%BA%BA%20a?expand=history&x=1"
    assert sent.content == '{"name": "张三"}'.encode()
    assert sent.headers["authorization"] == admin["Authorization"]
    assert sent.headers["if-match"] == '"2"'
    assert sent.headers["idempotency-key"] == "k1"
    assert sent.headers["x-onesource-purpose"] == "social-assistance"
    assert sent.headers["x-request-id"] == "req-42"
    assert "cookie" not in sent.headers
    assert "x-other" not in sent.headers


async def test_a_token_the_gateway_refuses_goes_no_further(client, upstream, identity, admin) -> None:
    upstream.handler = lambda request: httpx.Response(200, json={})
    forged = await client.get("/api/catalog/v1/resources", headers={"Authorization": "Bearer abc"})
    assert forged.status_code == 401
    await identity.department("civil-affairs", "000014301")
    registered = await identity.client("civil-affairs", ["consumer"], client_id="soon-disabled")
    bearer = await identity.bearer("soon-disabled", registered["client_secret"])
    assert (await client.post("/api/identity/v1/clients/soon-disabled/disable", headers=admin)).status_code == 200

    revoked = await client.get("/api/catalog/v1/resources", headers=bearer)

    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]
    assert upstream.requests == []


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_every_method_is_forwarded(client, upstream, method) -> None:
    upstream.handler = lambda request: httpx.Response(204)
    response = await client.request(method, "/api/catalog/v1/resources/population.person")
    assert response.status_code == 204
    assert upstream.requests[0].method == method
    assert upstream.requests[0].url.path == "/v1/resources/population.person"
    assert upstream.requests[0].headers["x-request-id"] == response.headers["x-request-id"]  # generated, passed on


async def test_upstream_errors_pass_through(client, upstream) -> None:
    upstream.handler = lambda request: httpx.Response(
        404, json={"type": "x/not-found"}, headers={"Content-Type": "application/problem+json"}
    )
    response = await client.get("/api/exchange/v1/grants/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_and_reserved_services_are_404(client, upstream) -> None:
    for path in ("/api/nonsense/v1/x", "/api/audit/v1/nothing-here", "/api/identity/v1/nothing-here"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/unknown-service")
    assert upstream.requests == []


async def test_dot_segments_are_refused(client, upstream) -> None:
    for path in ("/api/catalog/v1/%2E%2E/%2e%2e/admin", "/api/exchange/%2e/v1"):
        response = await client.get(httpx.URL(path))
        assert response.status_code == 400, path
        assert response.json()["type"].endswith("/unsafe-path")
    assert upstream.requests == []


async def test_identity_routes_win_over_the_catch_all(client, upstream, admin) -> None:
    response = await client.get("/api/identity/v1/departments/platform", headers=admin)
    assert response.status_code == 200
    assert response.json()["code"] == "platform"
    assert upstream.requests == []


def _raise(error: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


async def test_unreachable_upstream_is_502(client, upstream) -> None:
    upstream.handler = _raise(httpx.ConnectError("connection refused"))
    response = await client.get("/api/catalog/v1/resources/population.person")
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/upstream-unavailable")


async def test_upstream_timeout_is_504(client, upstream) -> None:
    upstream.handler = _raise(httpx.ReadTimeout("too slow"))
    response = await client.get("/api/exchange/v1/grants")
    assert response.status_code == 504
    assert response.json()["type"].endswith("/upstream-timeout")


async def test_real_unreachable_service_is_502(client, gateway_app, settings) -> None:
    # Nothing listens on port 9 of localhost: a real connection failure, not a simulated one.
    original = dict(settings.service_urls)
    settings.service_urls["catalog"] = "http://127.0.0.1:9"
    try:
        response = await client.get("/api/catalog/v1/resources")
    finally:
        settings.service_urls.clear()
        settings.service_urls.update(original)
    assert response.status_code == 502


async def test_forwarding_to_a_second_real_app(client, gateway_app, settings) -> None:
    registry = FastAPI()

    @registry.get("/v1/things/{key}")
    async def thing(key: str, purpose: str | None = None) -> dict[str, str | None]:
        return {"key": key, "purpose": purpose}

    original_urls = dict(settings.service_urls)
    settings.service_urls["catalog"] = "http://catalog.internal"
    try:
        async with routed(gateway_app, httpx.ASGITransport(app=registry)):
            response = await client.get("/api/catalog/v1/things/k1?purpose=audit")
    finally:
        settings.service_urls.clear()
        settings.service_urls.update(original_urls)
    assert response.status_code == 200
    assert response.json() == {"key": "k1", "purpose": "audit"}


async def test_registry_health_probes_pass_through(client, upstream, settings) -> None:
    upstream.handler = lambda request: httpx.Response(200, json={"status": "ok", "service": "population"})
    response = await client.get("/api/population/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "population"}
    assert str(upstream.requests[0].url) == f"{settings.service_urls['population']}/healthz"


async def test_management_calls_are_rate_limited_per_client(client, upstream, gateway_app, callers) -> None:
    original = gateway_app.state.rate_limits
    gateway_app.state.rate_limits = TokenBuckets(rate=0.5, burst=2)
    try:
        mine = callers("mca", client_id="mca-portal")
        answers = [await client.get("/api/catalog/v1/resources", headers=mine) for _ in range(3)]
        other = await client.get("/api/catalog/v1/resources", headers=callers("hrss", client_id="hrss-portal"))
    finally:
        gateway_app.state.rate_limits = original
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].json()["type"].endswith("/rate-limited")
    assert int(answers[2].headers["retry-after"]) >= 1
    assert other.status_code == 200  # another client has its own bucket
    assert len(upstream.requests) == 3


async def test_management_bodies_are_size_limited(client, upstream, settings) -> None:
    too_big = b"x" * (settings.max_body_bytes + 1)
    declared = await client.post("/api/catalog/v1/resources", content=too_big, headers={"Content-Type": "text/plain"})
    assert declared.status_code == 413
    assert declared.json()["type"].endswith("/content-too-large")

    async def chunks():  # no Content-Length: counted while read
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"x" * 65536

    streamed = await client.post("/api/exchange/v1/share-requests", content=chunks())
    assert streamed.status_code == 413
    assert upstream.requests == []
