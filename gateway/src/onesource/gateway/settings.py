"""Settings of gateway (``ONESOURCE_GATEWAY_*``); the only place it reads the environment."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from onesource.kit.settings import ServiceSettings

#: Where the registries and platform services listen in the local mesh.
DEFAULT_SERVICE_URLS: dict[str, str] = {
    "catalog": "http://127.0.0.1:8001",
    "exchange": "http://127.0.0.1:8002",
    "population": "http://127.0.0.1:8101",
    "legal-entity": "http://127.0.0.1:8102",
    "geo": "http://127.0.0.1:8103",
    "macroeconomy": "http://127.0.0.1:8104",
}


class Settings(ServiceSettings):
    """Settings of gateway."""

    model_config = SettingsConfigDict(
        env_prefix="ONESOURCE_GATEWAY_", extra="ignore", env_nested_delimiter="__", populate_by_name=True
    )

    service_name: ClassVar[str] = "gateway"

    database_url: SecretStr = SecretStr("postgresql+asyncpg://postgres@127.0.0.1:54320/onesource_gateway")
    """SQLAlchemy async DSN of this service's own database."""
    service_urls: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SERVICE_URLS))
    """Base URL of every service behind the gateway, by the name used in ``/api/<name>/…`` (a JSON object)."""
    token_lifetime_seconds: int = Field(default=900, ge=60, le=86_400)
    """How long an issued access token is valid."""
    key_encryption_secret: SecretStr = SecretStr("dev-insecure-gateway-key-encryption")
    """Secret from which the key that encrypts the signing keys at rest is derived (HKDF-SHA256)."""
    bootstrap_admin_secret: SecretStr | None = Field(default=None, validation_alias="ONESOURCE_BOOTSTRAP_ADMIN_SECRET")
    """When set, the client ``admin`` exists with this secret after start-up (the variable is the source of truth)."""

    @property
    def issuer(self) -> str:
        """The ``iss`` claim of issued tokens; the one every service's :class:`AuthSettings` expects."""
        return self.auth.issuer

    @property
    def audience(self) -> str:
        """The ``aud`` claim of issued tokens."""
        return self.auth.audience
