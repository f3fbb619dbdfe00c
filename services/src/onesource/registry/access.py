"""Who may do what in a registry, as dependencies: its owner's registrars write, its owner and the gateway read.

The owner is the registry's setting (``RegistrySettings.owner_department``), set by the platform's operators, never
by a client. Whole records leave a registry only to its owner or to the gateway (a token with the ``gateway`` role),
which has checked the caller's grant and masks the answer to it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from onesource.kit.auth import GATEWAY_ROLE, CurrentPrincipal, Principal
from onesource.kit.errors import Forbidden
from onesource.registry.settings import RegistrySettings


def _owner_and_name(request: Request) -> tuple[str, str]:
    settings: RegistrySettings = request.app.state.settings
    return settings.owner_department, request.app.state.service_name


async def _registrar(request: Request, principal: CurrentPrincipal) -> Principal:
    owner, name = _owner_and_name(request)
    if not principal.has_role("registrar"):
        raise Forbidden(f"writing to the {name} registry requires the registrar role")
    if principal.department != owner:
        raise Forbidden(f"only registrars of {owner!r}, which owns the {name} registry, may write to it")
    return principal


async def _owner(request: Request, principal: CurrentPrincipal) -> Principal:
    owner, name = _owner_and_name(request)
    if principal.department != owner:
        raise Forbidden(f"only {owner!r}, which owns the {name} registry, may do this")
    return principal


async def _reader(request: Request, principal: CurrentPrincipal) -> Principal:
    owner, name = _owner_and_name(request)
    if principal.department != owner and not principal.has_role(GATEWAY_ROLE):
        raise Forbidden(
            f"whole records are read by their owner only; other departments read through the gateway "
            f"(/api/{name}/...) under a grant"
        )
    return principal


RegistrarDep = Annotated[Principal, Depends(_registrar)]
"""A registrar of the owning department (writes)."""
OwnerDep = Annotated[Principal, Depends(_owner)]
"""Any client of the owning department (history, import reports, findings)."""
ReaderDep = Annotated[Principal, Depends(_reader)]
"""The owning department, or the gateway acting under a grant (reads of records)."""
