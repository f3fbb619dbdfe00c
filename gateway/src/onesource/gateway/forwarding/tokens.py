"""The gateway's own tokens, sent to a registry (and the exchange) for a caller whose grant the gateway checked.

Claims: ``sub`` ``gateway``, ``roles`` ``["gateway"]`` (:data:`onesource.kit.auth.GATEWAY_ROLE`), ``dept`` the caller's
department, ``act`` ``{"sub": <client id>}`` (RFC 8693 §4.1: who the gateway acts for). They live
``service_token_lifetime_seconds`` (60 s by default) and are reused per (client, department) until 30 s before
they expire, so signing is not on every call. The signing key is the gateway's active one, re-read in the
background: a retired key stays published longer than these tokens live, so a token signed just before a
rotation still verifies.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from onesource.gateway.keys.crypto import ALGORITHM
from onesource.kit.auth import GATEWAY_ROLE, Principal
from onesource.kit.errors import ServiceUnavailable

SUBJECT = "gateway"
#: A cached token is replaced once it has less than this left, so it never expires on its way to a registry.
REUSE_MARGIN_SECONDS = 30
_PRUNE_ABOVE = 10_000


@dataclass(frozen=True, slots=True)
class Signer:
    """The key that signs now."""

    kid: str
    key: Ed25519PrivateKey


class GatewayTokens:
    """Mints and caches the gateway's tokens acting for callers."""

    def __init__(self, *, issuer: str, audience: str, lifetime_seconds: int) -> None:
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime_seconds
        self.signer: Signer | None = None
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}

    def use(self, signer: Signer) -> None:
        """Sign new tokens with ``signer`` (tokens already issued stay valid until they expire)."""
        self.signer = signer

    def acting_for(self, principal: Principal) -> str:
        """A token of the gateway acting for ``principal``'s department, reused while it has 30 s left."""
        cache_key = (principal.client_id, principal.department)
        now = time.time()
        cached = self._cache.get(cache_key)
        if cached is not None and cached[1] - now > REUSE_MARGIN_SECONDS:
            return cached[0]
        if self.signer is None:
            raise ServiceUnavailable("the gateway has not loaded its signing key yet; retry shortly")
        issued_at = int(now)
        expires_at = issued_at + self.lifetime
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": SUBJECT,
            "roles": [GATEWAY_ROLE],
            "dept": principal.department,
            "act": {"sub": principal.client_id},
            "iat": issued_at,
            "exp": expires_at,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self.signer.key, algorithm=ALGORITHM, headers={"kid": self.signer.kid})
        if len(self._cache) >= _PRUNE_ABOVE:
            self._cache = {key: value for key, value in self._cache.items() if value[1] - now > REUSE_MARGIN_SECONDS}
        self._cache[cache_key] = (token, expires_at)
        return token
