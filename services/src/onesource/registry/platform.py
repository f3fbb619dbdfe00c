"""A registry calling the platform like any department: its own client credentials, through the gateway, a purpose.

So a registry that needs another registry's datum (one datum, one source) reads it under its department's grant,
audited like every other data call, instead of keeping a copy. :class:`PlatformClient` gets and renews the
registry's token (OAuth 2 client credentials) and reads through the gateway; whenever it cannot get an answer it
can rely on — no credentials yet, the gateway or the other registry down or slow, no grant, an answer it does not
understand — it raises :class:`DependencyUnavailable` (503), never a guess.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from onesource.kit.errors import ServiceError
from onesource.registry.settings import PlatformSettings

logger = logging.getLogger(__name__)

#: A token is renewed this long before it expires.
_RENEW_SECONDS = 30.0


class DependencyUnavailable(ServiceError):
    """The registry cannot get an answer it needs from another part of the platform; try again later (503)."""

    status = 503
    type = "dependency-unavailable"
    title = "Dependency unavailable"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.headers["Retry-After"] = "5"


@dataclass(frozen=True)
class PlatformAnswer:
    """A data answer through the gateway: its status, its problem type slug (for problems), and its JSON body."""

    status: int
    body: Any
    problem: str | None


class PlatformClient:
    """Reads through the gateway as the registry's own client; one per process, sharing its HTTP client."""

    def __init__(self, settings: PlatformSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> bool:
        """Whether the registry has a client of the platform at all."""
        return self.settings.client_id is not None

    def _secret(self) -> str:
        settings = self.settings
        if settings.client_secret is not None:
            return settings.client_secret.get_secret_value()
        if settings.client_secret_file is None:
            raise DependencyUnavailable("the registry has no client secret for the platform (settings: platform)")
        try:
            return settings.client_secret_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise DependencyUnavailable(
                f"the registry's platform client secret is not readable yet ({type(error).__name__})"
            ) from None

    async def _fresh_token(self) -> str:
        settings = self.settings
        if settings.client_id is None:
            raise DependencyUnavailable("the registry has no client of the platform (settings: platform.client_id)")
        try:
            response = await self.http.post(
                f"{settings.gateway_url}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(settings.client_id, self._secret()),
                timeout=settings.timeout_seconds,
            )
        except httpx.HTTPError as error:
            raise DependencyUnavailable(f"the gateway did not issue a token: {type(error).__name__}") from None
        if response.status_code != 200:
            raise DependencyUnavailable(
                f"the gateway refused the registry's client a token (HTTP {response.status_code})"
            )
        body = response.json()
        self._renew_at = time.monotonic() + float(body.get("expires_in", 60)) - _RENEW_SECONDS
        token: str = body["access_token"]
        return token

    async def _token_now(self, *, renew: bool) -> str:
        async with self._lock:
            if renew or self._token is None or time.monotonic() >= self._renew_at:
                self._token = await self._fresh_token()
            return self._token

    async def read(self, path: str, *, purpose: str, params: Mapping[str, str] | None = None) -> PlatformAnswer:
        """``GET {gateway}{path}`` with ``purpose``: 2xx and 4xx answers as they came; 503 for anything else.

        A 401 (the token was revoked, or the secret rotated) gets one new token and one more try.
        """
        for attempt in range(2):
            token = await self._token_now(renew=attempt > 0)
            try:
                response = await self.http.get(
                    f"{self.settings.gateway_url}{path}",
                    params=params,
                    headers={"Authorization": f"Bearer {token}", "X-OneSource-Purpose": quote(purpose, safe="")},
                    timeout=self.settings.timeout_seconds,
                )
            except httpx.HTTPError as error:
                raise DependencyUnavailable(f"no answer through the gateway ({type(error).__name__})") from None
            if response.status_code == 401 and attempt == 0:
                continue
            return _answer(response)
        raise AssertionError("unreachable")  # pragma: no cover


def _answer(response: httpx.Response) -> PlatformAnswer:
    status = response.status_code
    if status >= 500 or status in {401, 429} or not 200 <= status < 500:
        raise DependencyUnavailable(f"the gateway answered HTTP {status}")
    try:
        body = response.json()
    except ValueError:
        raise DependencyUnavailable(f"the gateway's answer (HTTP {status}) is not JSON") from None
    problem = None
    if status >= 400:
        problem = str(body.get("type", "")).rsplit("/", 1)[-1] if isinstance(body, dict) else ""
    return PlatformAnswer(status, body, problem)
