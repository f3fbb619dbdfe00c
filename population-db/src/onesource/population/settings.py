"""Settings of population registry (``ONESOURCE_POPULATION_*``); the only place it reads the environment."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from onesource.registry.settings import RegistrySettings


class Settings(RegistrySettings):
    """Settings of population registry."""

    model_config = SettingsConfigDict(env_prefix="ONESOURCE_POPULATION_", extra="ignore", env_nested_delimiter="__")

    service_name: ClassVar[str] = "population"

    database_url: SecretStr = SecretStr("postgresql+asyncpg://postgres@127.0.0.1:54320/onesource_population")
    """SQLAlchemy async DSN of this service's own database."""

    owner_department: str = "psb"
    import_batch_rows: int = Field(default=5000, ge=1)
    """Lines of the file a bulk import checks and loads per block (its memory is bounded by this, not by the file)."""
    import_progress_seconds: float = 1.0
    """How often a running import commits its progress (``GET /v1/imports/{id}``)."""
