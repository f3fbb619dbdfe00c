"""API shapes of the token endpoint (RFC 6749 §4.1, §4.4, §5.1, §5.2) and of OpenID Connect discovery."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from onesource.gateway.oauth.errors import OAuthErrorCode


class TokenResponse(BaseModel):
    """An issued access token (RFC 6749 §5.1)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    access_token: str
    """A JWT signed with EdDSA (Ed25519); its header names the key (``kid``) published in the JWKS."""
    token_type: Literal["Bearer"] = "Bearer"
    """Send it as ``Authorization: Bearer <access_token>``."""
    expires_in: int
    """Seconds until it expires."""
    id_token: str | None = None
    """For a person (authorization code and refresh grants): the OpenID Connect ID token, for the client named in
    its ``aud``."""
    refresh_token: str | None = None
    """For a person: exchanged at this endpoint (``grant_type=refresh_token``) for new tokens; each use replaces it."""
    scope: str | None = None
    """For a person: the granted scope (``openid``)."""


class TokenError(BaseModel):
    """An OAuth error (RFC 6749 §5.2)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    error: OAuthErrorCode
    """The OAuth error code."""
    error_description: str
    """What went wrong, for the developer."""


class UserInfo(BaseModel):
    """Who the signed-in person is (OpenID Connect Core §5.3)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    sub: str
    """The person's token subject, ``person:<username>``."""
    preferred_username: str
    """The username the person signs in with."""
    name: str
    """The person's name."""
    dept: str
    """Code of the department the person acts for."""
    roles: list[str]
    """The person's roles."""
