"""People's sign-in: OAuth 2 authorization code with PKCE (RFC 6749 §4.1, RFC 7636), refresh, and revocation.

The clients are public (a browser-facing portal cannot keep a secret), so PKCE with ``S256`` is mandatory and the
redirect URI must be one registered for the client, compared exactly (RFC 9700 §2.1). Codes and refresh tokens
are stored only as SHA-256 digests, are single-use, and expire. A refresh token is replaced at each use; presenting
a replaced one again means it leaked, so all of that person's refresh tokens are revoked (RFC 9700 §4.14.2).
Revoking a token (sign-out, RFC 7009) ends every session of the person: refresh tokens are revoked, and access
tokens issued before are refused through the same revocation list that refuses a disabled client's tokens.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import jwt
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.keys import service as keys
from onesource.gateway.models import AuthorizationCode, Person, RefreshToken
from onesource.gateway.oauth.errors import InvalidGrant, InvalidRequest, UnauthorizedClient
from onesource.gateway.oauth.schemas import TokenResponse
from onesource.gateway.people import service as people
from onesource.gateway.people.schemas import subject_of
from onesource.gateway.settings import Settings

SCOPE = "openid"
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 §4.1
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of a SHA-256 digest, unpadded


def digest(secret: str) -> str:
    """The stored form of a code or refresh token."""
    return hashlib.sha256(secret.encode()).hexdigest()


def s256(verifier: str) -> str:
    """The PKCE ``S256`` challenge of ``verifier`` (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A checked authorization request (RFC 6749 §4.1.1 with RFC 7636 §4.3 and OpenID Connect's ``nonce``)."""

    client_id: str
    redirect_uri: str
    state: str | None
    code_challenge: str
    nonce: str | None
    scope: str

    def form_fields(self) -> dict[str, str]:
        """The parameters the login form carries back."""
        fields = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
            "scope": self.scope,
        }
        if self.state is not None:
            fields["state"] = self.state
        if self.nonce is not None:
            fields["nonce"] = self.nonce
        return fields

    def redirect(self, **parameters: str) -> str:
        """The redirect URI with ``parameters`` and the request's ``state`` added to its query."""
        if self.state is not None:
            parameters["state"] = self.state
        separator = "&" if urlsplit(self.redirect_uri).query else "?"
        return f"{self.redirect_uri}{separator}{urlencode(parameters)}"


class UntrustedRedirect(Exception):
    """The client or its redirect URI is not registered: the error is shown, never redirected (RFC 6749 §4.1.2.1)."""


class RedirectableError(Exception):
    """An error of a request whose redirect URI is trusted: sent back to the client there (RFC 6749 §4.1.2.1)."""

    def __init__(self, request: AuthorizationRequest, error: str, description: str) -> None:
        super().__init__(description)
        self.location = request.redirect(error=error, error_description=description)


def check_request(settings: Settings, parameters: dict[str, str]) -> AuthorizationRequest:
    """The checked request; :class:`UntrustedRedirect` or :class:`RedirectableError` when it is not acceptable."""
    client_id = parameters.get("client_id", "")
    redirect_uri = parameters.get("redirect_uri", "")
    if redirect_uri not in settings.oidc_clients.get(client_id, []):
        raise UntrustedRedirect("unknown client, or a redirect URI not registered for it")
    request = AuthorizationRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        state=parameters.get("state"),
        code_challenge=parameters.get("code_challenge", ""),
        nonce=parameters.get("nonce") or None,
        scope=SCOPE,
    )
    if parameters.get("response_type") != "code":
        raise RedirectableError(request, "unsupported_response_type", "response_type must be code")
    if SCOPE not in parameters.get("scope", "").split():
        raise RedirectableError(request, "invalid_scope", "scope must include openid")
    if parameters.get("code_challenge_method") != "S256" or not _CHALLENGE.match(request.code_challenge):
        raise RedirectableError(request, "invalid_request", "PKCE is required: code_challenge with method S256")
    return request


async def issue_code(
    session: AsyncSession, settings: Settings, request: AuthorizationRequest, person: Person, now: datetime
) -> str:
    """A one-time code for ``person``, bound to the request's client, redirect URI and PKCE challenge."""
    code = secrets.token_urlsafe(32)
    session.add(
        AuthorizationCode(
            code_hash=digest(code),
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            username=person.username,
            scope=request.scope,
            nonce=request.nonce,
            auth_time=now,
            expires_at=now + timedelta(seconds=settings.authorization_code_lifetime_seconds),
        )
    )
    await session.flush()
    return code


def _public_client(settings: Settings, form: dict[str, str]) -> str:
    client_id = form.get("client_id", "")
    if not client_id:
        raise InvalidRequest("client_id is required")
    if client_id not in settings.oidc_clients:
        raise UnauthorizedClient(f"client {client_id!r} is not registered for people's sign-in")
    return client_id


async def exchange_code(session: AsyncSession, settings: Settings, form: dict[str, str]) -> TokenResponse:
    """Tokens for a code (``grant_type=authorization_code``), once, with the matching PKCE verifier."""
    client_id = _public_client(settings, form)
    code, verifier = form.get("code", ""), form.get("code_verifier", "")
    if not code or not form.get("redirect_uri"):
        raise InvalidRequest("code and redirect_uri are required")
    if not _VERIFIER.match(verifier):
        raise InvalidRequest("code_verifier is required (43 to 128 unreserved characters, RFC 7636 §4.1)")
    # Deleted as it is read: a code works once, even when two exchanges race.
    found = (
        await session.scalars(
            delete(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code)).returning(AuthorizationCode)
        )
    ).first()
    now = datetime.now(UTC)
    if found is None or found.expires_at <= now:
        raise InvalidGrant("the authorization code is unknown, used or expired")
    if found.client_id != client_id or found.redirect_uri != form["redirect_uri"]:
        raise InvalidGrant("the authorization code was issued to another client or redirect URI")
    if not secrets.compare_digest(s256(verifier), found.code_challenge):
        raise InvalidGrant("the code_verifier does not match the code_challenge")
    person = await people.get(session, found.username)
    if person.disabled:
        raise InvalidGrant("the person's account is disabled")
    return await _tokens(session, settings, person, client_id, found.scope, found.nonce, found.auth_time, now)


async def refresh(session: AsyncSession, settings: Settings, form: dict[str, str]) -> TokenResponse:
    """New tokens for a refresh token (``grant_type=refresh_token``), which is replaced."""
    client_id = _public_client(settings, form)
    presented = form.get("refresh_token", "")
    if not presented:
        raise InvalidRequest("refresh_token is required")
    now = datetime.now(UTC)
    found = (
        await session.scalars(
            select(RefreshToken).where(RefreshToken.token_hash == digest(presented)).with_for_update()
        )
    ).first()
    if found is None or found.client_id != client_id:
        raise InvalidGrant("the refresh token is unknown")
    if found.revoked_at is not None:
        # A replaced token presented again was stolen or replayed: end every session of the person.
        await _revoke_all(session, found.username, now)
        raise InvalidGrant("the refresh token was already used or revoked")
    if found.expires_at <= now:
        raise InvalidGrant("the refresh token expired; sign in again")
    person = await people.get(session, found.username)
    if person.disabled:
        raise InvalidGrant("the person's account is disabled")
    found.revoked_at = now
    return await _tokens(session, settings, person, client_id, found.scope, None, found.auth_time, now)


async def _revoke_all(session: AsyncSession, username: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.username == username, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await people.sign_out(session, username, now)


async def revoke(session: AsyncSession, settings: Settings, form: dict[str, str], now: datetime) -> str | None:
    """Sign the person out (RFC 7009): the username whose sessions ended, or ``None`` when the token is unknown.

    ``token`` may be a refresh token or an access token of a person; either ends every session of that person.
    """
    _public_client(settings, form)
    token = form.get("token", "")
    if not token:
        raise InvalidRequest("token is required")
    found = (await session.scalars(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))).first()
    username = found.username if found is not None else await _access_token_person(session, settings, token)
    if username is None:
        return None  # RFC 7009 §2.2: an invalid token is answered 200 all the same
    await _revoke_all(session, username, now)
    return username


async def _access_token_person(session: AsyncSession, settings: Settings, token: str) -> str | None:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    document = await keys.jwks(session, settings)
    for key in document["keys"]:
        if key.get("kid") == kid:
            try:
                claims = jwt.decode(
                    token, jwt.PyJWK(key), algorithms=["EdDSA"], audience=settings.audience, issuer=settings.issuer
                )
            except jwt.PyJWTError:
                return None
            subject = str(claims.get("sub", ""))
            return subject.removeprefix("person:") if subject.startswith("person:") else None
    return None


async def _tokens(
    session: AsyncSession,
    settings: Settings,
    person: Person,
    client_id: str,
    scope: str,
    nonce: str | None,
    auth_time: datetime,
    now: datetime,
) -> TokenResponse:
    kid, private_key = await keys.signer(session, settings)
    issued = int(time.time())
    subject = subject_of(person.username)
    access = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": subject,
        "dept": person.department,
        "roles": list(person.roles),
        "name": person.name,
        "iat": issued,
        "exp": issued + settings.token_lifetime_seconds,
        "jti": uuid.uuid4().hex,
    }
    identity = {
        "iss": settings.issuer,
        "aud": client_id,
        "sub": subject,
        "preferred_username": person.username,
        "name": person.name,
        "dept": person.department,
        "roles": list(person.roles),
        "auth_time": int(auth_time.timestamp()),
        "iat": issued,
        "exp": issued + settings.token_lifetime_seconds,
    }
    if nonce is not None:
        identity["nonce"] = nonce
    refresh_token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            token_hash=digest(refresh_token),
            username=person.username,
            client_id=client_id,
            scope=scope,
            auth_time=auth_time,
            expires_at=now + timedelta(seconds=settings.refresh_token_lifetime_seconds),
        )
    )
    await session.flush()
    headers = {"kid": kid}
    return TokenResponse(
        access_token=jwt.encode(access, private_key, algorithm="EdDSA", headers=headers),
        expires_in=settings.token_lifetime_seconds,
        id_token=jwt.encode(identity, private_key, algorithm="EdDSA", headers=headers),
        refresh_token=refresh_token,
        scope=scope,
    )
