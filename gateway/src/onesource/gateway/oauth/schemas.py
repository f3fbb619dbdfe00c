"""API shapes of the token endpoint (RFC 6749 §4.4, §5.1, §5.2)."""

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


class TokenError(BaseModel):
    """An OAuth error (RFC 6749 §5.2)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    error: OAuthErrorCode
    """The OAuth error code."""
    error_description: str
    """What went wrong, for the developer."""
