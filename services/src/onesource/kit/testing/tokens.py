"""A token issuer for service tests: signs JWTs like the gateway and serves the matching JWKS."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from onesource.kit.auth import RevocationList, TokenVerifier
from onesource.kit.settings import AuthSettings


class TestTokens:
    """Issues gateway-shaped tokens with a throwaway Ed25519 key."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, settings: AuthSettings | None = None) -> None:
        self.settings = settings or AuthSettings()
        self.key = Ed25519PrivateKey.generate()
        self.kid = f"test-{uuid.uuid4().hex[:8]}"
        self.revoked = RevocationList()
        """What the verifiers of these tokens refuse, as the gateway's published revocation list would say."""

    def jwks(self) -> dict[str, Any]:
        """The public key set, as the gateway publishes it."""
        public = jwt.algorithms.OKPAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}

    def issue(
        self, client_id: str, department: str, roles: Iterable[str], *, lifetime: int = 300, **claims: Any
    ) -> str:
        """A signed access token."""
        now = int(time.time())
        payload = {
            "iss": self.settings.issuer,
            "aud": self.settings.audience,
            "sub": client_id,
            "dept": department,
            "roles": sorted(roles),
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(payload, self.key, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(self, client_id: str, department: str, roles: Iterable[str]) -> dict[str, str]:
        """``Authorization`` header for a caller."""
        return {"Authorization": f"Bearer {self.issue(client_id, department, roles)}"}

    def verifier(self) -> TokenVerifier:
        """A verifier that trusts these tokens."""

        async def source() -> dict[str, Any]:
            return self.jwks()

        async def revocations() -> RevocationList:
            return self.revoked

        return TokenVerifier(self.settings, source, revocations)
