"""Settings of exchange (``ONESOURCE_EXCHANGE_*``); the only place it reads the environment."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from onesource.kit.settings import ServiceSettings

# China's official 2026 schedule (国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04).
CHINA_2026_HOLIDAYS: tuple[str, ...] = (
    # 元旦
    "2026-01-01", "2026-01-02", "2026-01-03",
    # 春节
    "2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21",
    "2026-02-22", "2026-02-23",
    # 清明节
    "2026-04-04", "2026-04-05", "2026-04-06",
    # 劳动节
    "2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05",
    # 端午节
    "2026-06-19", "2026-06-20", "2026-06-21",
    # 中秋节
    "2026-09-25", "2026-09-26", "2026-09-27",
    # 国庆节
    "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07",
)  # fmt: skip
#: Weekend days that are working days in 2026 (调休上班).
CHINA_2026_MAKEUP_WORKDAYS: tuple[str, ...] = (
    "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
)  # fmt: skip


class Settings(ServiceSettings):
    """Settings of exchange."""

    model_config = SettingsConfigDict(env_prefix="ONESOURCE_EXCHANGE_", extra="ignore", env_nested_delimiter="__")

    service_name: ClassVar[str] = "exchange"

    database_url: SecretStr = SecretStr("postgresql+asyncpg://postgres@127.0.0.1:54320/onesource_exchange")
    """SQLAlchemy async DSN of this service's own database."""
    catalog_url: str = "http://127.0.0.1:8001"
    """Base URL of the catalog service, asked for resources the read model does not know yet."""
    holidays: list[date] = Field(default_factory=lambda: [date.fromisoformat(day) for day in CHINA_2026_HOLIDAYS])
    """Public holidays (non-working even on a weekday); defaults to China's 2026 schedule."""
    makeup_workdays: list[date] = Field(
        default_factory=lambda: [date.fromisoformat(day) for day in CHINA_2026_MAKEUP_WORKDAYS]
    )
    """Weekend days that are working days (调休); defaults to China's 2026 schedule."""
    utc_offset_hours: int = 8
    """Offset of the calendar's time zone (China Standard Time, no daylight saving)."""
    decision_working_days: int = 10
    """Working days a provider has to answer a conditional share request."""
    default_grant_days: int = 365
    """Validity of a grant when the request names no duration."""
    max_grant_days: int = 1826
    """Longest validity a request may ask for."""
    sweep_seconds: float = 60.0
    """How often overdue requests are flagged and lapsed grants expired."""
    sweeper_enabled: bool = True
    """Run the periodic sweep inside this process."""
    projector_enabled: bool = True
    """Run the projector (source events → subscribers) inside this process."""
    projector_refresh_seconds: float = 5.0
    """How often the projector re-reads which source topics the catalog's resources use."""
    catalog_consumer_enabled: bool = True
    """Consume catalog resource events into the read model."""
    feed_max_wait_seconds: float = 30.0
    """Longest long poll of the HTTP event feed."""
    feed_poll_seconds: float = 1.0
    """Fallback re-check interval of a long poll (LISTEN/NOTIFY wakes it at once)."""
