"""OAuth 2.0 token endpoint errors (RFC 6749 §5.2): answered as OAuth JSON, not as problem details."""

from __future__ import annotations

from typing import ClassVar, Literal

OAuthErrorCode = Literal[
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "slow_down"
]


class OAuthError(Exception):
    """An error of the token endpoint, rendered as ``{"error", "error_description"}``."""

    error: ClassVar[OAuthErrorCode]
    status: ClassVar[int] = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class InvalidRequest(OAuthError):
    """The request is missing a parameter, repeats one, or is otherwise malformed (400)."""

    error = "invalid_request"


class InvalidClient(OAuthError):
    """Client authentication failed: unknown client, wrong secret, disabled, or no credentials (401)."""

    error = "invalid_client"
    status = 401

    def __init__(self, description: str, *, basic: bool = False) -> None:
        super().__init__(description)
        self.basic = basic
        """The client tried HTTP Basic authentication (RFC 6749 §5.2: answer with ``WWW-Authenticate``)."""


class InvalidGrant(OAuthError):
    """The authorization code or refresh token is unknown, used, expired, revoked, or does not match (400)."""

    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    """The client may not use this grant: it is not a registered public client of people's sign-in (400)."""

    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    """Only ``client_credentials``, ``authorization_code`` and ``refresh_token`` are supported (400)."""

    error = "unsupported_grant_type"


class SlowDown(OAuthError):
    """Too many failed authentications for this client or from this address: wait ``retry_after`` seconds (429).

    ``slow_down`` is the code RFC 8628 §3.5 gives for polling too fast; OAuth client libraries know it.
    """

    error = "slow_down"
    status = 429

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description)
        self.retry_after = retry_after
