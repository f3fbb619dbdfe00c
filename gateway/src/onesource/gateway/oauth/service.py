"""Issuing access tokens (OAuth 2.0 client credentials grant, RFC 6749 §4.4)."""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from urllib.parse import parse_qsl, unquote_plus

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.clients import service as clients
from onesource.gateway.keys import service as keys
from onesource.gateway.oauth.errors import InvalidClient, InvalidRequest, SlowDown, UnsupportedGrantType
from onesource.gateway.oauth.schemas import TokenResponse
from onesource.gateway.oauth.throttle import LoginThrottle
from onesource.gateway.settings import Settings

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
GRANT_TYPE = "client_credentials"


def parse_form(body: bytes, content_type: str | None) -> dict[str, str]:
    """The parameters of a token request body; :class:`InvalidRequest` when it is not a proper form."""
    if (content_type or "").split(";", 1)[0].strip().lower() != FORM_MEDIA_TYPE:
        raise InvalidRequest(f"the request body must be {FORM_MEDIA_TYPE}")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the request body is not a valid form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.2: parameters MUST NOT be included more than once
            raise InvalidRequest(f"parameter {name!r} is repeated")
        form[name] = value
    return form


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """Client id and secret from an HTTP Basic ``Authorization`` header (RFC 6749 §2.3.1), if one was sent."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient("only HTTP Basic or form parameters authenticate a client at this endpoint")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("malformed HTTP Basic credentials", basic=True) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidClient("malformed HTTP Basic credentials", basic=True)
    # RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded.
    return unquote_plus(client_id), unquote_plus(secret)


async def issue(
    session: AsyncSession,
    settings: Settings,
    form: dict[str, str],
    authorization: str | None,
    *,
    throttle: LoginThrottle,
    address: str,
) -> TokenResponse:
    """Check the grant and the client's credentials, and sign an access token for the client.

    ``address`` is the caller's network address: failures are throttled per (client id, address) pair and, with a
    higher ceiling, per address.
    """
    basic = basic_credentials(authorization)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise InvalidRequest("grant_type is required")
    if grant_type != GRANT_TYPE:
        raise UnsupportedGrantType(f"grant_type must be {GRANT_TYPE!r}")
    in_form = "client_id" in form or "client_secret" in form
    if basic is not None and in_form:  # RFC 6749 §2.3: one authentication method per request
        raise InvalidRequest("send client credentials either with HTTP Basic or in the form, not both")
    client_id, secret = basic if basic is not None else (form.get("client_id", ""), form.get("client_secret", ""))
    if not client_id or not secret:
        raise InvalidClient("client_id and client_secret are required")
    pair, from_address = throttle.keys(client_id, address)
    wait = throttle.retry_after(pair, from_address)
    if wait:
        raise SlowDown(f"too many failed attempts; retry after {wait} s", retry_after=wait)
    client = await clients.authenticate(session, client_id, secret)
    if client is None:
        throttle.failed(pair, from_address)
        raise InvalidClient("client authentication failed", basic=basic is not None)
    throttle.succeeded(pair)
    kid, private_key = await keys.signer(session, settings)
    now = int(time.time())
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": client.client_id,
        "dept": client.department,
        "roles": list(client.roles),
        "iat": now,
        "exp": now + settings.token_lifetime_seconds,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid})
    return TokenResponse(access_token=token, expires_in=settings.token_lifetime_seconds)
