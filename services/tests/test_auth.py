"""Token verification: signature, claims, and the memory of tokens already verified."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from onesource.kit.auth import HttpRevocations, RevocationList, TokenVerifier
from onesource.kit.errors import ServiceUnavailable, Unauthorized
from onesource.kit.settings import AuthSettings
from onesource.kit.testing.tokens import TestTokens


class CountingSource:
    """A key set source that counts its fetches and can withdraw every key."""

    def __init__(self, tokens: TestTokens) -> None:
        self.tokens = tokens
        self.fetches = 0
        self.withdrawn = False

    async def __call__(self) -> dict[str, Any]:
        self.fetches += 1
        return {"keys": []} if self.withdrawn else self.tokens.jwks()


async def nothing_revoked() -> RevocationList:
    return RevocationList()


async def test_a_verified_token_is_remembered_with_its_principal() -> None:
    tokens = TestTokens()
    verifier = tokens.verifier()
    token = tokens.issue("psb-registrar", "psb", ["registrar"])
    first = await verifier.verify(token)
    again = await verifier.verify(token)
    assert again is first, "the second call is answered from memory"
    assert (first.client_id, first.department, first.roles) == ("psb-registrar", "psb", frozenset({"registrar"}))


async def test_a_remembered_token_is_refused_once_it_expires() -> None:
    tokens = TestTokens()
    verifier = tokens.verifier()
    token = tokens.issue("psb-registrar", "psb", ["registrar"], lifetime=1)
    await verifier.verify(token)
    await asyncio.sleep(2.1)  # `exp` has one-second resolution
    with pytest.raises(Unauthorized, match="expired"):
        await verifier.verify(token)


async def test_a_remembered_token_is_refused_once_its_key_leaves_the_key_set() -> None:
    tokens = TestTokens()
    source = CountingSource(tokens)
    verifier = TokenVerifier(AuthSettings(), source, nothing_revoked)
    verifier.REFETCH_INTERVAL = 0.0
    token = tokens.issue("psb-registrar", "psb", ["registrar"])
    await verifier.verify(token)
    source.withdrawn = True
    # A token naming a key the verifier does not know makes it refetch the set, which no longer has the old key.
    with pytest.raises(Unauthorized, match="unknown key"):
        await verifier.verify(TestTokens().issue("stranger", "psb", ["consumer"]))
    assert source.fetches == 2
    with pytest.raises(Unauthorized, match="unknown key"):
        await verifier.verify(token)


async def test_a_changed_token_is_verified_afresh_and_refused() -> None:
    tokens = TestTokens()
    verifier = tokens.verifier()
    token = tokens.issue("psb-registrar", "psb", ["registrar"])
    await verifier.verify(token)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(Unauthorized, match="invalid token"):
        await verifier.verify(forged)


async def test_the_memory_is_bounded() -> None:
    tokens = TestTokens()
    verifier = tokens.verifier()
    verifier.VERIFIED_CACHE_SIZE = 3
    issued = [tokens.issue(f"client-{n}", "psb", ["consumer"]) for n in range(5)]
    for token in issued:
        await verifier.verify(token)
    assert len(verifier._verified) == 3
    assert set(verifier._verified) == set(issued[2:]), "the oldest entries make room"


# --- revocation: the gateway's list, honoured by every service (issue 20 §2) -----------------------------------


async def test_a_remembered_token_is_refused_once_its_client_is_revoked() -> None:
    tokens = TestTokens()
    verifier = tokens.verifier()
    token = tokens.issue("mca-app", "mca", ["consumer"])
    await verifier.verify(token)
    tokens.revoked.disabled("mca-app")
    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(token)
    # A rotation refuses the tokens issued before it, not those after.
    tokens.revoked.refuse_before("mca-app", time.time() + 3600)
    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(token)
    tokens.revoked.refuse_before("mca-app", time.time() - 3600)
    assert (await verifier.verify(token)).client_id == "mca-app"


class PublishedList:
    """The gateway's revocation endpoint: answers its list, or fails, and counts the fetches."""

    def __init__(self) -> None:
        self.revoked = RevocationList()
        self.failing = False
        self.fetches = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if self.failing:
            return httpx.Response(503, json={"title": "restarting"})
        return httpx.Response(200, content=self.revoked.document().model_dump_json())


async def test_services_fetch_the_published_list_and_fail_closed_without_it() -> None:
    published = PublishedList()
    published.revoked.disabled("mca-app")
    published.revoked.refuse_before("psb-steward", 1_800_000_000)
    async with httpx.AsyncClient(transport=httpx.MockTransport(published), base_url="http://gateway") as client:
        revocations = HttpRevocations("/api/identity/v1/revocations", client, refresh_seconds=0.2, max_age_seconds=0.6)
        listed = await revocations()
        assert listed.is_revoked("mca-app", time.time())
        assert listed.is_revoked("psb-steward", 1_799_999_999)
        assert not listed.is_revoked("psb-steward", 1_800_000_000)
        assert not listed.is_revoked("psb-registrar", 0)
        await revocations()
        assert published.fetches == 1, "fetched at most every refresh_seconds"

        await asyncio.sleep(0.25)
        published.revoked.disabled("psb-registrar")
        started = time.monotonic()
        assert not (await revocations()).is_revoked("psb-registrar", time.time()), "no call waits for a refresh"
        assert time.monotonic() - started < 0.05
        for _ in range(100):  # the refresh it started, in the background
            if (await revocations()).is_revoked("psb-registrar", time.time()):
                break
            await asyncio.sleep(0.01)
        assert (await revocations()).is_revoked("psb-registrar", time.time()), "a new revocation arrives"
        assert published.fetches == 2

        published.failing = True
        await asyncio.sleep(0.25)
        assert (await revocations()).is_revoked("mca-app", time.time()), "a recent list outlives a failed fetch"
        await asyncio.sleep(0.5)
        with pytest.raises(ServiceUnavailable):
            await revocations()  # too old to trust: every token is refused


async def test_a_service_refuses_every_token_when_it_cannot_know_the_list() -> None:
    tokens = TestTokens()

    async def keys() -> dict[str, Any]:
        return tokens.jwks()

    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(502))) as client:
        revocations = HttpRevocations("http://gateway/revocations", client, refresh_seconds=1, max_age_seconds=30)
        verifier = TokenVerifier(AuthSettings(), keys, revocations)
        with pytest.raises(ServiceUnavailable):
            await verifier.verify(tokens.issue("mca-app", "mca", ["consumer"]))
