"""Settings of macroeconomy registry (``ONESOURCE_MACROECONOMY_*``); the only place it reads the environment."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from onesource.registry.settings import RegistrySettings


class Settings(RegistrySettings):
    """Settings of macroeconomy registry."""

    model_config = SettingsConfigDict(env_prefix="ONESOURCE_MACROECONOMY_", extra="ignore", env_nested_delimiter="__")

    service_name: ClassVar[str] = "macroeconomy"

    database_url: SecretStr = SecretStr("postgresql+asyncpg://postgres@127.0.0.1:54320/onesource_macroeconomy")
    """SQLAlchemy async DSN of this service's own database."""

    owner_department: str = "stats"
    release_poll_seconds: float = Field(default=5.0, gt=0)
    """How often the release loop looks for embargoed vintages that are due (it also runs at start-up)."""
    max_load_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    """The largest load (SDMX-CSV or SDMX-JSON body) accepted; larger is 413."""
