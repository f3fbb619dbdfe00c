"""The mesh seed waits for the gateway to learn the catalog before it writes data through it."""

from __future__ import annotations

import httpx
import pytest

from onesource.mesh.seed import SeedError, _when_covered

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
