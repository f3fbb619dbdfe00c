"""The app factory as a client sees it: problems, request ids, health, metrics, authentication."""

from __future__ import annotations

import gc
import uuid

import httpx
from fastapi import FastAPI

from onesource.kit.testing.tokens import TestTokens

PROBLEM = "application/problem+json"


def registrar(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("psb-registrar", "psb", ["registrar"])


async def test_malformed_json_is_a_422_problem(client: httpx.AsyncClient, tokens: TestTokens) -> None:
    response = await client.post(
        "/v1/widgets",
        content=b'{"name": "x", "colour":',
        headers={**registrar(tokens), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith("/malformed-json")
    assert body["status"] == 422
    assert body["invalid_params"]


async def test_missing_field_names_the_field(client: httpx.AsyncClient, tokens: TestTokens) -> None:
    response = await client.post("/v1/widgets", json={"name": "x"}, headers=registrar(tokens))
    assert response.status_code == 422
    body = response.json()
    assert body["type"].endswith("/validation-error")
    assert [param["name"] for param in body["invalid_params"]] == ["body.colour"]


async def test_bad_query_parameter_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/widgets/anything", params={"limit": "many"})
    assert response.status_code == 422
    assert response.json()["invalid_params"][0]["name"] == "query.limit"
    over = await client.get("/v1/widgets/anything", params={"limit": "1000"})
    assert over.status_code == 422


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    wrong_method = await client.delete("/v1/widgets")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["type"].endswith("/method-not-allowed")


async def test_domain_error_is_its_own_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/widgets/does-not-exist")
    assert response.status_code == 404
    body = response.json()
    assert body["type"].endswith("/not-found")
    assert body["detail"] == "no widget does-not-exist"
    assert body["instance"] == "/v1/widgets/does-not-exist"


async def test_unexpected_error_hides_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/widgets/crash/now")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_an_unreachable_database_is_a_503_to_retry_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/widgets/crash/database")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "1"
    assert response.json()["type"].endswith("/service-unavailable")
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_request_id_is_propagated_or_generated(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    hostile = await client.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    assert hostile.headers["x-request-id"] != "bad id\twith spaces"


async def test_health_readiness_and_metrics(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert health.json() == {"status": "ok", "service": "widgets"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "onesource_http_requests_total" in metrics.text
    assert "onesource_outbox_pending_rows" in metrics.text


async def test_writes_need_a_valid_token_with_the_role(client: httpx.AsyncClient, tokens: TestTokens) -> None:
    body = {"name": f"w-{uuid.uuid4().hex[:8]}", "colour": "red"}
    anonymous = await client.post("/v1/widgets", json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    garbage = await client.post("/v1/widgets", json=body, headers={"Authorization": "Bearer not-a-jwt"})
    assert garbage.status_code == 401
    consumer = await client.post("/v1/widgets", json=body, headers=tokens.headers("mca-app", "mca", ["consumer"]))
    assert consumer.status_code == 403
    expired = tokens.issue("psb-registrar", "psb", ["registrar"], lifetime=-120)
    stale = await client.post("/v1/widgets", json=body, headers={"Authorization": f"Bearer {expired}"})
    assert stale.status_code == 401
    foreign = TestTokens().issue("psb-registrar", "psb", ["registrar"])
    forged = await client.post("/v1/widgets", json=body, headers={"Authorization": f"Bearer {foreign}"})
    assert forged.status_code == 401
    allowed = await client.post("/v1/widgets", json=body, headers=registrar(tokens))
    assert allowed.status_code == 201


async def test_overlong_uris_and_header_fields_are_refused_before_anything_reads_them(
    client: httpx.AsyncClient,
) -> None:
    # Issue 20 §7: a 60,000-character path and a 100 KB header were accepted (and stored, by the gateway's audit).
    long_path = await client.get("/v1/widgets/" + "a" * 60_000)
    assert long_path.status_code == 414
    assert long_path.headers["content-type"] == PROBLEM
    assert long_path.json()["type"].endswith("/uri-too-long")
    assert len(long_path.text) < 2000
    long_query = await client.get("/v1/widgets/x", params={"q": "b" * 10_000})
    assert long_query.status_code == 414
    big_header = await client.get("/v1/widgets/x", headers={"X-Note": "c" * 100_000})
    assert big_header.status_code == 431
    assert big_header.json()["type"].endswith("/headers-too-large")
    assert big_header.headers["x-request-id"]


async def test_nul_in_a_path_or_query_is_unstorable_input(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/v1/widgets/a%00b"),
        await client.get("/v1/widgets/x", params={"limit": "1\x00"}),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["type"].endswith("/unstorable-input")


async def test_what_start_up_built_is_out_of_the_collectors_way(widgets_app: FastAPI) -> None:
    # A full collection then walks what was made since start-up, not the modules, the app and its clients.
    assert widgets_app.state.engine is not None
    assert gc.get_freeze_count() > 10_000
