"""A registry's own client of the platform: tokens got and renewed, reads through the gateway, 503 when in doubt."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from onesource.registry.platform import DependencyUnavailable, PlatformClient
from onesource.registry.settings import PlatformSettings

PROBLEMS = "https://onesource.gov.cn/problems/"


class Gateway:
    """The gateway's token endpoint and one data path, counting what it is asked."""

    def __init__(self, secret: str = "s3cret") -> None:
        self.secret = secret
        self.tokens = 0
        self.revoked: set[str] = set()
        self.answer: httpx.Response | Exception = httpx.Response(200, json={"id_number": "x", "deceased": False})
        self.purposes: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            if request.headers["authorization"] != httpx.BasicAuth("amr-legal-entity", self.secret)._auth_header:
                return httpx.Response(401, json={"error": "invalid_client"})
            self.tokens += 1
            return httpx.Response(200, json={"access_token": f"token-{self.tokens}", "expires_in": 300})
        if request.headers["authorization"].removeprefix("Bearer ") in self.revoked:
            return httpx.Response(401, json={"type": PROBLEMS + "unauthorized"})
        self.purposes.append(unquote(request.headers["x-onesource-purpose"]))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def client(gateway: Gateway, **settings: object) -> PlatformClient:
    values = {"gateway_url": "http://gateway", "client_id": "amr-legal-entity", "client_secret": "s3cret", **settings}
    return PlatformClient(
        PlatformSettings.model_validate(values), httpx.AsyncClient(transport=httpx.MockTransport(gateway.handle))
    )


async def test_a_read_states_the_purpose_and_the_token_is_reused() -> None:
    gateway = Gateway()
    platform = client(gateway)
    for _ in range(3):
        answer = await platform.read("/api/population/v1/persons/x", purpose="法定代表人核验")
        assert (answer.status, answer.body["deceased"]) == (200, False)
    assert gateway.tokens == 1
    assert gateway.purposes == ["法定代表人核验"] * 3


async def test_a_revoked_token_is_renewed_once() -> None:
    gateway = Gateway()
    platform = client(gateway)
    await platform.read("/p", purpose="p")
    gateway.revoked.add("token-1")
    answer = await platform.read("/p", purpose="p")
    assert answer.status == 200
    assert gateway.tokens == 2


async def test_the_secret_is_read_from_its_file_when_needed(tmp_path: Path) -> None:
    gateway = Gateway(secret="from-the-file")
    secret_file = tmp_path / "client-secret"
    platform = client(gateway, client_secret=None, client_secret_file=str(secret_file))
    with pytest.raises(DependencyUnavailable, match="not readable yet"):
        await platform.read("/p", purpose="p")
    secret_file.write_text("from-the-file\n")
    assert (await platform.read("/p", purpose="p")).status == 200


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(502, json={"type": PROBLEMS + "upstream-unavailable"}),
        httpx.Response(504, json={"type": PROBLEMS + "upstream-timeout"}),
        httpx.Response(429, json={"type": PROBLEMS + "rate-limited"}),
        httpx.Response(200, text="<html>"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
    ],
)
async def test_anything_it_cannot_rely_on_is_503(answer: httpx.Response | Exception) -> None:
    gateway = Gateway()
    gateway.answer = answer
    with pytest.raises(DependencyUnavailable) as raised:
        await client(gateway).read("/p", purpose="p")
    assert raised.value.status == 503
    assert raised.value.type == "dependency-unavailable"


async def test_refusals_are_answered_with_their_problem_type() -> None:
    gateway = Gateway()
    gateway.answer = httpx.Response(404, json={"type": PROBLEMS + "record-not-found"})
    answer = await client(gateway).read("/p", purpose="p")
    assert (answer.status, answer.problem) == (404, "record-not-found")


async def test_without_credentials_it_cannot_know() -> None:
    with pytest.raises(DependencyUnavailable, match="no client"):
        await client(Gateway(), client_id=None).read("/p", purpose="p")
    with pytest.raises(DependencyUnavailable, match="refused"):
        await client(Gateway(secret="other")).read("/p", purpose="p")
