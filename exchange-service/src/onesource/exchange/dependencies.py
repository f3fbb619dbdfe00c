"""Dependencies shared by the exchange's routers: settings, calendar, roles, the caller's token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from onesource.exchange.resources.catalog import CatalogClient
from onesource.exchange.settings import Settings
from onesource.exchange.workdays import WorkingCalendar
from onesource.kit.auth import Principal, require_roles


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]
"""The running app's settings."""


def calendar_from(settings: Settings) -> WorkingCalendar:
    """The working-day calendar the settings describe."""
    return WorkingCalendar.of(settings.holidays, settings.makeup_workdays, settings.utc_offset_hours)


async def _calendar(settings: SettingsDep) -> WorkingCalendar:
    return calendar_from(settings)


CalendarDep = Annotated[WorkingCalendar, Depends(_calendar)]
"""The working-day calendar."""


async def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


BearerTokenDep = Annotated[str | None, Depends(_bearer_token)]
"""The caller's own bearer token, forwarded when the exchange asks another service on its behalf."""

ConsumerDep = Annotated[Principal, Depends(require_roles("consumer"))]
"""The caller, who must hold the ``consumer`` role."""
StewardDep = Annotated[Principal, Depends(require_roles("steward"))]
"""The caller, who must hold the ``steward`` role."""
CoordinatorDep = Annotated[Principal, Depends(require_roles("coordinator"))]
"""The caller, who must hold the ``coordinator`` role."""
RevokerDep = Annotated[Principal, Depends(require_roles("steward", "coordinator", "admin"))]
"""The caller, who must be a steward, coordinator or admin."""
OverseerDep = Annotated[Principal, Depends(require_roles("coordinator", "admin"))]
"""The caller, who must be a coordinator or admin."""


def sees_everything(principal: Principal) -> bool:
    """Coordinators and admins oversee every department's requests, grants and reports."""
    return principal.has_role("coordinator", "admin")


async def _catalog(request: Request, settings: SettingsDep, token: BearerTokenDep) -> CatalogClient:
    return CatalogClient(http=request.app.state.http, base_url=settings.catalog_url, token=token)


CatalogDep = Annotated[CatalogClient, Depends(_catalog)]
"""The catalog's resource API, asked with the caller's token (the kit's shared HTTP client)."""
