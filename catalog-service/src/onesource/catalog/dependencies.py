"""Dependencies shared by the catalog's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from onesource.catalog.settings import Settings
from onesource.kit.auth import Principal, require_roles


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]
"""The running app's settings."""


AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
"""The caller, who must be a platform admin."""
