"""The legal-entity registry's own dependencies (who may do what is the registry core's: ``registry.access``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from onesource.legal_entity.settings import Settings


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _today() -> date:
    return date.today()


SettingsDep = Annotated[Settings, Depends(_settings)]
"""The registry's settings."""
TodayDep = Annotated[date, Depends(_today)]
"""Today's date, by which the rules judge dates (the registry's one clock)."""
