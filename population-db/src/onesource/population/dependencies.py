"""The population registry's own dependencies (who may do what is the registry core's: ``registry.access``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from onesource.population.settings import Settings


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]
"""The registry's settings."""
