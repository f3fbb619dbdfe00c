"""Settings of the portal (``ONESOURCE_PORTAL_*``); the only place it reads the environment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from onesource.kit.settings import INSECURE_DEFAULT_PREFIX


class Settings(BaseSettings):
    """Settings of the portal."""

    model_config = SettingsConfigDict(env_prefix="ONESOURCE_PORTAL_", extra="ignore")

    environment: Literal["local", "test", "production"] = Field(
        default="local", validation_alias="ONESOURCE_ENVIRONMENT"
    )
    """``local``, ``test`` or ``production``; only local and test accept the default session secret."""
    gateway_url: str = "http://127.0.0.1:8000"
    """Where the portal calls the gateway's public API (and its token endpoint)."""
    gateway_public_url: str | None = None
    """Where browsers reach the gateway's sign-in page; ``gateway_url`` when unset."""
    public_url: str = "http://127.0.0.1:8003"
    """The portal's own address as browsers reach it (its sign-in callback is ``<public_url>/auth/callback``)."""
    client_id: str = "portal"
    """The portal's OAuth client id at the gateway (a public client: PKCE, no secret)."""
    session_secret: SecretStr = SecretStr(INSECURE_DEFAULT_PREFIX + "portal-session")
    """Secret from which the key that encrypts session cookies is derived (HKDF-SHA256); rotating it signs all out."""
    session_hours: float = Field(default=8.0, gt=0, le=24)
    """A session ends after this long (the refresh token's life bounds it too)."""
    secure_cookies: bool = False
    """Mark cookies ``Secure`` (HTTPS only); on everywhere but a local mesh over plain HTTP."""
    request_timeout_seconds: float = Field(default=15.0, gt=0)
    """How long one call to the gateway may take."""

    @property
    def redirect_uri(self) -> str:
        """The sign-in callback registered at the gateway."""
        return self.public_url.rstrip("/") + "/auth/callback"

    @property
    def browser_gateway_url(self) -> str:
        """The gateway as browsers reach it."""
        return (self.gateway_public_url or self.gateway_url).rstrip("/")

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == "production" and self.session_secret.get_secret_value().startswith(
            INSECURE_DEFAULT_PREFIX
        ):
            raise ValueError("session_secret still holds the development default; set a real secret for production")
        return self
