"""Settings of the geospatial registry (``ONESOURCE_GEO_*``); the only place it reads the environment."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from onesource.registry.settings import RegistrySettings


class Settings(RegistrySettings):
    """Settings of the geospatial registry."""

    model_config = SettingsConfigDict(env_prefix="ONESOURCE_GEO_", extra="ignore", env_nested_delimiter="__")

    service_name: ClassVar[str] = "geo"

    database_url: SecretStr = SecretStr("postgresql+asyncpg://postgres@127.0.0.1:54320/onesource_geo")
    """SQLAlchemy async DSN of this service's own database (PostgreSQL with PostGIS)."""

    owner_department: str = "nrb"
