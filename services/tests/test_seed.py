"""The mesh seed waits for the gateway to learn the catalog before it writes data through it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from onesource.mesh.seed import (
    SeedError,
    _when_covered,
    client_secret_file,
    platform_seed_steps,
    seed_platform,
    seed_subscriptions,
)
from onesource.mesh.services import SERVICES, platform_env
from onesource.registry.directory import Registry, RegistryClient, ShareRequest

PROBLEM = "https://onesource.gov.cn/problems/"


def _gateway(answers: list[httpx.Response], seen: list[httpx.Request]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    return httpx.Client(base_url="http://gateway", transport=httpx.MockTransport(handle))


def _problem(status: int, slug: str) -> httpx.Response:
    return httpx.Response(status, json={"type": PROBLEM + slug, "status": status, "title": slug})


def test_it_retries_while_the_gateway_catches_up() -> None:
    seen: list[httpx.Request] = []
    answers = [_problem(503, "grants-unknown"), _problem(404, "not-covered"), httpx.Response(200, json={"items": []})]
    with _gateway(answers, seen) as gateway:
        response = _when_covered(gateway, "/api/population/v1/persons", {"X-OneSource-Purpose": "demo-seed"})
    assert response.status_code == 200
    assert len(seen) == 3
    assert all(request.headers["x-onesource-purpose"] == "demo-seed" for request in seen)


@pytest.mark.parametrize(("status", "slug"), [(403, "no-grant"), (404, "not-found"), (400, "purpose-required")])
def test_other_refusals_stop_the_seed_at_once(status: int, slug: str) -> None:
    seen: list[httpx.Request] = []
    with _gateway([_problem(status, slug)], seen) as gateway, pytest.raises(SeedError) as raised:
        _when_covered(gateway, "/api/population/v1/persons", {})
    assert raised.value.status_code == status
    assert len(seen) == 1


def test_it_gives_up_after_the_timeout() -> None:
    seen: list[httpx.Request] = []
    answers = [_problem(503, "grants-unknown") for _ in range(100)]
    with _gateway(answers, seen) as gateway, pytest.raises(SeedError):
        _when_covered(gateway, "/api/population/v1/persons", {}, timeout=0.3)
    assert 1 < len(seen) < 100


def _registry_with_a_client() -> Registry:
    return Registry(
        service="things",
        owner="amr",
        resources=lambda provider: [],
        client=RegistryClient("amr-things", "事物核验系统"),
        share_requests=(ShareRequest("population.person", ("id_number", "deceased"), "核验", "依据"),),
        subscriptions=("population.person",),
    )


def test_a_registrys_own_client_shares_and_subscriptions_are_seeded(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    granted: list[dict[str, object]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path == "/api/identity/v1/clients":
            return httpx.Response(201, json={"client_id": "amr-things", "client_secret": "the-secret"})
        if path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "things-token", "expires_in": 300})
        if path == "/api/exchange/v1/grants":
            return httpx.Response(200, json={"items": granted, "next_cursor": None})
        if path == "/api/exchange/v1/share-requests":
            granted.append({"purpose": "核验", "status": "active"})
            return httpx.Response(201, json={"id": "r1", "status": "granted", "grant_id": "g1"})
        if path == "/api/exchange/v1/subscriptions":
            if len([r for r in seen if r.url.path == path]) > 1:
                return _problem(409, "duplicate-subscription")
            return httpx.Response(201, json={"id": "s1", "topic": "onesource.delivery.amr.population.person"})
        raise AssertionError(path)

    registry = _registry_with_a_client()
    steps: list[str] = []
    with httpx.Client(base_url="http://gateway", transport=httpx.MockTransport(handle)) as gateway:
        for _ in range(2):  # a restarted mesh seeds again: nothing is asked twice
            clients = seed_platform(gateway, tmp_path / "secrets", steps.append, found=[registry])
            seed_subscriptions(
                gateway, {client.client_id: client for client in clients}, steps.append, found=[registry]
            )
    assert [client.client_id for client in clients] == ["amr-things"]
    secret_file = client_secret_file(tmp_path / "secrets", "things")
    assert secret_file.read_text().strip() == "the-secret"
    assert secret_file.stat().st_mode & 0o077 == 0
    asked = [request for request in seen if request.url.path == "/api/exchange/v1/share-requests"]
    assert len(asked) == 1
    assert json.loads(asked[0].content) == {
        "resource": "population.person",
        "fields": ["id_number", "deceased"],
        "purpose": "核验",
        "legal_basis": "依据",
    }
    assert asked[0].headers["authorization"] == "Bearer things-token"
    created = json.loads(next(r for r in seen if r.url.path == "/api/identity/v1/clients").content)
    assert created == {"client_id": "amr-things", "department": "amr", "name": "事物核验系统", "roles": ["consumer"]}
    assert steps[-1] == "amr-things: subscription to population.person exists"
    assert platform_seed_steps([registry]) == 3


def test_a_registry_is_told_where_its_client_secret_will_be(tmp_path: Path) -> None:
    spec = next(spec for spec in SERVICES if spec.name == "legal-entity")
    env = platform_env(spec, "http://127.0.0.1:8000", "amr-legal-entity", tmp_path / "s")
    assert env == {
        "ONESOURCE_LEGAL_ENTITY_PLATFORM__GATEWAY_URL": "http://127.0.0.1:8000",
        "ONESOURCE_LEGAL_ENTITY_PLATFORM__CLIENT_ID": "amr-legal-entity",
        "ONESOURCE_LEGAL_ENTITY_PLATFORM__CLIENT_SECRET_FILE": str(tmp_path / "s"),
    }
