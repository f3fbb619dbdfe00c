"""Token verification against the gateway's JWKS and revocation list, and role/department checks as dependencies.

Every service verifies tokens itself (defence in depth): the gateway forwards the caller's token, and
each service checks signature, issuer, audience, expiry, roles and department ownership on its own — and honours
the same revocation as the gateway: a disabled client's tokens, and tokens issued before a client's secret was
rotated (or before it was disabled, once it is enabled again), are refused. The gateway publishes its revocation
list (``GET /api/identity/v1/revocations``); each service fetches it at most every ``revocations_refresh_seconds``
and refuses every token (503) when it has not known the list for ``revocations_max_age_seconds`` (fail closed).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError

from onesource.kit.errors import Forbidden, ServiceUnavailable, Unauthorized
from onesource.kit.settings import AuthSettings

logger = logging.getLogger(__name__)

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


#: Marks a client whose every token is refused.
_EVERY_TOKEN = math.inf


class RevokedClient(BaseModel):
    """A client some of whose tokens are refused."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    client_id: str
    """The client (a token's ``sub``)."""
    not_before: int | None
    """Tokens issued (``iat``) before this moment (seconds since the epoch) are refused; ``null``: every token (the
    client is disabled)."""


class RevocationDocument(BaseModel):
    """The gateway's revocation list, as it publishes it for every service to honour."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[RevokedClient]
    """Clients with refused tokens; a client not listed has none (its older limits outlived every token)."""


class RevocationList:
    """Which clients' tokens are refused, and which were issued too early to count."""

    def __init__(self, not_before: Mapping[str, float] | None = None) -> None:
        self._not_before: dict[str, float] = dict(not_before or {})

    def is_revoked(self, client_id: str, issued_at: float) -> bool:
        """Whether a token of ``client_id`` issued at ``issued_at`` (seconds since the epoch) is refused."""
        not_before = self._not_before.get(client_id)
        return not_before is not None and issued_at < not_before

    def disabled(self, client_id: str) -> None:
        """Refuse every token of ``client_id``."""
        self._not_before[client_id] = _EVERY_TOKEN

    def refuse_before(self, client_id: str, moment: float) -> None:
        """Refuse tokens of ``client_id`` issued before ``moment`` (seconds since the epoch), and no others."""
        self._not_before[client_id] = moment

    def replace(self, other: RevocationList) -> None:
        """Hold exactly what ``other`` holds from now on."""
        self._not_before = dict(other._not_before)

    def document(self) -> RevocationDocument:
        """The list as the gateway publishes it."""
        return RevocationDocument(
            items=[
                RevokedClient(client_id=client_id, not_before=None if math.isinf(moment) else math.floor(moment))
                for client_id, moment in sorted(self._not_before.items())
            ]
        )

    @classmethod
    def from_document(cls, document: RevocationDocument) -> RevocationList:
        """The list the gateway published."""
        return cls(
            {
                item.client_id: _EVERY_TOKEN if item.not_before is None else float(item.not_before)
                for item in document.items
            }
        )


RevocationSource = Callable[[], Awaitable[RevocationList]]
"""The revocation list as it is now (the gateway's own, or the one it publishes, fetched)."""


class HttpRevocations:
    """The gateway's published revocation list, fetched again every ``refresh_seconds``.

    Requests never wait for a refresh while the list known is younger than ``max_age_seconds``: a call that finds it
    older than ``refresh_seconds`` starts one fetch in the background and goes on with the list known. Only a
    service that has no list yet, or one older than ``max_age_seconds`` (the gateway unreachable that long), waits
    for the fetch — and refuses every token with 503 when it fails (fail closed): a service that cannot know which
    clients are revoked admits none.
    """

    def __init__(self, url: str, client: httpx.AsyncClient, *, refresh_seconds: float, max_age_seconds: float) -> None:
        self.url = url
        self.client = client
        self.refresh_seconds = refresh_seconds
        self.max_age_seconds = max_age_seconds
        self._list: RevocationList | None = None
        self._fetched_at = -math.inf
        self._lock = asyncio.Lock()
        self._refreshing: asyncio.Task[None] | None = None

    async def __call__(self) -> RevocationList:
        """The list known, refreshed in the background when older than ``refresh_seconds``."""
        age = time.monotonic() - self._fetched_at
        if self._list is not None and age < self.max_age_seconds:
            if age >= self.refresh_seconds and (self._refreshing is None or self._refreshing.done()):
                self._refreshing = asyncio.create_task(self._refresh_quietly(), name="revocation-list-refresh")
            return self._list
        async with self._lock:  # one fetch at a time; callers that waited use its result
            if self._list is not None and time.monotonic() - self._fetched_at < self.max_age_seconds:
                return self._list
            try:
                return await self._fetch()
            except (httpx.HTTPError, ValidationError) as error:
                raise ServiceUnavailable(f"cannot fetch the token revocation list: {error!r}") from error

    async def _fetch(self) -> RevocationList:
        response = await self.client.get(self.url, timeout=min(5.0, self.max_age_seconds))
        response.raise_for_status()
        fetched = RevocationList.from_document(RevocationDocument.model_validate_json(response.content))
        self._list, self._fetched_at = fetched, time.monotonic()
        return fetched

    async def _refresh_quietly(self) -> None:
        try:
            await self._fetch()
        except (httpx.HTTPError, ValidationError) as error:  # the list known stays until it is too old
            logger.warning("could not refresh the token revocation list: %r", error)


class TokenVerifier:
    """Verifies gateway-issued JWTs; caches the key set and refetches it on an unknown key id."""

    #: A token naming an unknown key refetches the set (a rotation just happened), but at most this often, so
    #: tokens with made-up key ids cannot turn every request into a call to the gateway.
    REFETCH_INTERVAL = 1.0
    #: Tokens verified recently, remembered until they expire: a client sends the same token on every call for
    #: its whole lifetime, and checking its signature again each time is most of the cost of authenticating.
    VERIFIED_CACHE_SIZE = 4096

    def __init__(self, settings: AuthSettings, source: JwksSource, revocations: RevocationSource) -> None:
        self.settings = settings
        self.source = source
        self.revocations = revocations
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
        set (a key withdrawn from the set stops its tokens once the set is refetched). Remembered or not, a token
        is refused when the revocation list says so (its client disabled, or its secret rotated, since it was issued).
        """
        principal = await self._principal(token)
        revoked = await self.revocations()
        if revoked.is_revoked(principal.client_id, principal.issued_at or 0):
            raise Unauthorized("the token was revoked: its client is disabled or its secret was rotated since")
        return principal

    async def _principal(self, token: str) -> Principal:
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
