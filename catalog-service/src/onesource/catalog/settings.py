"""Settings of catalog (``ONESOURCE_CATALOG_*``); the only place it reads the environment."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from onesource.kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """Settings of catalog."""

    model_config = SettingsConfigDict(env_prefix="ONESOURCE_CATALOG_", extra="ignore", env_nested_delimiter="__")

    service_name: ClassVar[str] = "catalog"

    database_url: SecretStr = SecretStr("postgresql+asyncpg://postgres@127.0.0.1:54320/onesource_catalog")
    """SQLAlchemy async DSN of this service's own database."""
    public_base_url: str = "http://127.0.0.1:8000"
    """The gateway's public base URL: exports name datasets and registry APIs by their addresses on it."""
    grant_consumer_enabled: bool = True
    """Consume the exchange's grant events into the active-grants read model (retiring checks it)."""
    department_consumer_enabled: bool = True
    """Consume the gateway's department events into the departments read model (providers must be departments)."""
    facet_cap: int = 2_000
    """Facets count at most this many matches of a search (``capped`` says so), which bounds their cost."""
