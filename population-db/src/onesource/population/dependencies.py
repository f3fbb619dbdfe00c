"""Who may do what in the population registry, as dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from onesource.kit.auth import GATEWAY_ROLE, CurrentPrincipal, Principal
from onesource.kit.errors import Forbidden
from onesource.population.settings import Settings


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


async def _registrar(principal: CurrentPrincipal, settings: SettingsDep) -> Principal:
    if not principal.has_role("registrar"):
        raise Forbidden("writing to the population registry requires the registrar role")
    if principal.department != settings.owner_department:
        raise Forbidden(
            f"only registrars of {settings.owner_department!r}, which owns the population registry, may write to it"
        )
    return principal


async def _owner(principal: CurrentPrincipal, settings: SettingsDep) -> Principal:
    if principal.department != settings.owner_department:
        raise Forbidden(f"only {settings.owner_department!r}, which owns the population registry, may do this")
    return principal


async def _reader(principal: CurrentPrincipal, settings: SettingsDep) -> Principal:
    if principal.department != settings.owner_department and not principal.has_role(GATEWAY_ROLE):
        raise Forbidden(
            "whole person records are read by their owner only; other departments read through the gateway "
            "(/api/population/...) under a grant"
        )
    return principal


RegistrarDep = Annotated[Principal, Depends(_registrar)]
"""A registrar of the owning department (writes)."""
OwnerDep = Annotated[Principal, Depends(_owner)]
"""Any client of the owning department (history, import reports)."""
ReaderDep = Annotated[Principal, Depends(_reader)]
"""The owning department, or the gateway acting under a grant (reads of records)."""
