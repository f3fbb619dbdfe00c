"""The portal's only way to data: the gateway's public API, called with the signed-in person's own token.

Every read and write goes through here, so every authorization rule and audit entry stays at the gateway and the
services behind it. An answer of 4xx/5xx becomes an :class:`ApiProblem` (RFC 9457) that the pages show next to the
fields it names.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from onesource.portal.sessions import Session
from onesource.portal.settings import Settings

PROBLEM_PREFIX = "https://onesource.gov.cn/problems/"
#: Refresh this long before the access token expires, so a page never starts with a token about to lapse.
REFRESH_MARGIN_SECONDS = 30.0


@dataclass
class ApiProblem(Exception):
    """A problem the gateway (or a service behind it) answered."""

    status: int
    title: str
    detail: str = ""
    type: str = ""
    invalid_params: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiProblem:
        """The problem in ``response`` (problem+json, OAuth error JSON, or anything else)."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return cls(
            status=response.status_code,
            title=str(body.get("title") or body.get("error") or response.reason_phrase or "错误"),
            detail=str(body.get("detail") or body.get("error_description") or ""),
            type=str(body.get("type", "")).removeprefix(PROBLEM_PREFIX),
            invalid_params=[param for param in body.get("invalid_params") or [] if isinstance(param, dict)],
            body=body,
        )

    def field_errors(self) -> dict[str, str]:
        """Reasons by the form field they name (``body.fields.0.name`` → ``fields.0.name``)."""
        errors: dict[str, str] = {}
        for param in self.invalid_params:
            name = str(param.get("name", ""))
            for prefix in ("body.", "query.", "path."):
                name = name.removeprefix(prefix)
            errors.setdefault(name, str(param.get("reason", "")))
        return errors


class SignInExpired(Exception):
    """The person's session cannot be renewed: sign in again."""


@dataclass(frozen=True)
class Identity:
    """Who an ID token says signed in."""

    username: str
    name: str
    department: str
    roles: list[str]


class Gateway:
    """The gateway's HTTP API for one process: token exchange and the person's calls."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http

    # -- OAuth (the portal is a public client: PKCE, no secret) --

    async def exchange_code(self, code: str, verifier: str) -> dict[str, Any]:
        """Tokens for an authorization code."""
        return await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.settings.redirect_uri,
                "client_id": self.settings.client_id,
                "code_verifier": verifier,
            }
        )

    async def _token(self, form: dict[str, str]) -> dict[str, Any]:
        response = await self.http.post("/oauth/token", data=form)
        if response.status_code != 200:
            raise ApiProblem.from_response(response)
        tokens: dict[str, Any] = response.json()
        return tokens

    async def identity(self, id_token: str, nonce: str | None) -> Identity:
        """Who ``id_token`` names, after checking its signature, issuer, audience, expiry and nonce."""
        response = await self.http.get("/.well-known/jwks.json")
        response.raise_for_status()
        header = jwt.get_unverified_header(id_token)
        keys = [key for key in response.json()["keys"] if key.get("kid") == header.get("kid")]
        if not keys:
            raise SignInExpired("the ID token's key is not published")
        claims = jwt.decode(
            id_token,
            jwt.PyJWK(keys[0]),
            algorithms=["EdDSA", "ES256"],
            audience=self.settings.client_id,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
        if nonce is not None and claims.get("nonce") != nonce:
            raise SignInExpired("the ID token's nonce does not match this sign-in")
        return Identity(
            username=str(claims["preferred_username"]),
            name=str(claims.get("name", claims["preferred_username"])),
            department=str(claims.get("dept", "")),
            roles=[str(role) for role in claims.get("roles", [])],
        )

    async def refresh(self, session: Session) -> None:
        """Renew the session's tokens (the refresh token is replaced); :class:`SignInExpired` when it cannot be."""
        try:
            tokens = await self._token(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": session.refresh_token,
                    "client_id": self.settings.client_id,
                }
            )
        except ApiProblem as problem:
            raise SignInExpired(problem.detail or problem.title) from None
        session.access_token = tokens["access_token"]
        session.refresh_token = tokens.get("refresh_token", session.refresh_token)
        session.access_expires_at = time.time() + float(tokens["expires_in"])

    async def revoke(self, session: Session) -> None:
        """Sign the person out at the gateway: every session of theirs ends, their older tokens are refused."""
        await self.http.post(
            "/oauth/revoke", data={"token": session.refresh_token, "client_id": self.settings.client_id}
        )

    # -- The person's calls --

    async def call(
        self,
        session: Session,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Call the gateway as the person; :class:`ApiProblem` for an error answer.

        The token is renewed first when it is about to lapse, and once more when the gateway refuses it (401).
        """
        if session.access_expires_at - REFRESH_MARGIN_SECONDS < time.time():
            await self.refresh(session)
        clean = {name: value for name, value in (params or {}).items() if value not in (None, "", [])}
        response = await self._send(session, method, path, json, clean, headers)
        if response.status_code == 401:
            await self.refresh(session)
            response = await self._send(session, method, path, json, clean, headers)
            if response.status_code == 401:
                raise SignInExpired("the gateway refused the renewed token")
        if response.status_code >= 400:
            raise ApiProblem.from_response(response)
        return response

    async def _send(
        self,
        session: Session,
        method: str,
        path: str,
        body: Any,
        params: dict[str, Any],
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {session.access_token}", **(headers or {})}
        return await self.http.request(method, path, json=body, params=params, headers=sent)

    async def get(self, session: Session, path: str, **params: Any) -> Any:
        """The JSON answer of a GET."""
        return (await self.call(session, "GET", path, params=params)).json()

    async def post(self, session: Session, path: str, body: Any = None, **headers: str) -> Any:
        """The JSON answer of a POST (``None`` when it has no body)."""
        response = await self.call(session, "POST", path, json=body, headers=headers or None)
        return response.json() if response.content else None


def segment(value: str) -> str:
    """``value`` as one path segment."""
    return quote(value, safe="")


def purpose_header(purpose: str) -> str:
    """``X-OneSource-Purpose`` carries Chinese purposes percent-encoded (UTF-8)."""
    return quote(purpose, safe="")
