"""The geospatial registry's own dependencies: its settings and its clock (who may do what is ``registry.access``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from onesource.geo.settings import Settings


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _today(request: Request) -> date:
    clock = getattr(request.app.state, "today", None)
    return clock() if clock is not None else date.today()


SettingsDep = Annotated[Settings, Depends(_settings)]
"""The registry's settings."""
TodayDep = Annotated[date, Depends(_today)]
"""Today's date, the one clock of the registry's rules (``app.state.today`` overrides it in tests)."""
