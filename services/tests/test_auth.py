"""Token verification: signature, claims, and the memory of tokens already verified."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from onesource.kit.auth import TokenVerifier
from onesource.kit.errors import Unauthorized
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
    verifier = TokenVerifier(AuthSettings(), source)
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
