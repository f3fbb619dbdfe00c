"""Token verification against the gateway's JWKS, and role/department checks as dependencies.

Every service verifies tokens itself (defence in depth): the gateway forwards the caller's token, and
each service checks signature, issuer, audience, expiry, roles and department ownership on its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from onesource.kit.errors import Forbidden, ServiceUnavailable, Unauthorized
from onesource.kit.settings import AuthSettings

Role = Literal["consumer", "registrar", "steward", "coordinator", "admin"]
ROLES: tuple[Role, ...] = ("consumer", "registrar", "steward", "coordinator", "admin")
ALGORITHMS = ["EdDSA", "ES256"]
#: Held only by the gateway's own service tokens, never by a client: the gateway has checked the caller's grant
#: and will mask the answer to it, so a registry may hand it whole records.
GATEWAY_ROLE = "gateway"

JwksSource = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Principal:
    """Who is calling: a client system acting for a department, with its roles."""

    client_id: str
    department: str
    roles: frozenset[str]
    token_id: str | None = None
    issued_at: int | None = None
    """The token's ``iat`` (seconds since the epoch): the gateway refuses tokens issued before a revocation."""

    def has_role(self, *roles: str) -> bool:
        """Whether the caller holds any of ``roles``."""
        return bool(self.roles.intersection(roles))


def http_jwks_source(url: str, client: httpx.AsyncClient) -> JwksSource:
    """Fetch a JWKS document over HTTP."""

    async def fetch() -> dict[str, Any]:
        response = await client.get(url, timeout=5.0)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    return fetch


class TokenVerifier:
    """Verifies gateway-issued JWTs; caches the key set and refetches it on an unknown key id."""

    #: A token naming an unknown key refetches the set (a rotation just happened), but at most this often, so
    #: tokens with made-up key ids cannot turn every request into a call to the gateway.
    REFETCH_INTERVAL = 1.0
    #: Tokens verified recently, remembered until they expire: a client sends the same token on every call for
    #: its whole lifetime, and checking its signature again each time is most of the cost of authenticating.
    VERIFIED_CACHE_SIZE = 4096

    def __init__(self, settings: AuthSettings, source: JwksSource) -> None:
        self.settings = settings
        self.source = source
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        # token → (principal, expiry, key id); exact token strings only, so a hit is a token already verified
        self._verified: dict[str, tuple[Principal, float, str]] = {}

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if self._keys and age < (self.REFETCH_INTERVAL if force else self.settings.jwks_cache_seconds):
                return
            try:
                document = await self.source()
            except (httpx.HTTPError, ValueError) as error:
                if self._keys:
                    return  # keep verifying with the keys we have; the gateway may be restarting
                raise ServiceUnavailable(f"cannot fetch the token signing keys: {error}") from error
            self._keys = {key["kid"]: jwt.PyJWK(key) for key in document.get("keys", []) if "kid" in key}
            self._fetched_at = time.monotonic()

    async def _key(self, kid: str) -> jwt.PyJWK:
        await self._refresh(force=False)
        if kid not in self._keys:
            await self._refresh(force=True)
        try:
            return self._keys[kid]
        except KeyError:
            raise Unauthorized("token signed with an unknown key") from None

    async def verify(self, token: str) -> Principal:
        """Verify ``token`` and return its principal; :class:`Unauthorized` when it is not valid.

        A token verified before is accepted from memory while it has not expired and its key is still in the key
        set (a key withdrawn from the set stops its tokens once the set is refetched).
        """
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires, kid = remembered
            fresh_keys = time.monotonic() - self._fetched_at < self.settings.jwks_cache_seconds
            if time.time() < expires and kid in self._keys and fresh_keys:
                return principal
            del self._verified[token]
        principal, expires, kid = await self._verify_signed(token)
        if len(self._verified) >= self.VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = (principal, expires, kid)
        return principal

    async def _verify_signed(self, token: str) -> tuple[Principal, float, str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthorized(f"malformed token: {error}") from None
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("token has no key id")
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid token: {error}") from None
        principal = Principal(
            client_id=str(claims["sub"]),
            department=str(claims.get("dept", "")),
            roles=frozenset(str(role) for role in claims.get("roles", [])),
            token_id=claims.get("jti"),
            issued_at=int(claims["iat"]),
        )
        return principal, float(claims["exp"]), kid


_bearer = HTTPBearer(auto_error=False, description="Access token from POST /oauth/token")


async def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The verified caller; 401 without a valid bearer token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required")
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
"""The authenticated caller."""


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting callers that hold any of ``roles``."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(*roles):
            raise Forbidden(f"requires one of the roles: {', '.join(roles)}")
        return principal

    return check


def ensure_department(principal: Principal, department: str, *, action: str) -> None:
    """Refuse unless the caller acts for ``department`` (admins act for every department)."""
    if principal.has_role("admin") or principal.department == department:
        return
    raise Forbidden(f"department {principal.department!r} may not {action} for department {department!r}")
