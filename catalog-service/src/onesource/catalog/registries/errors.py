"""Errors of the registries domain."""

from __future__ import annotations

from onesource.kit.errors import Conflict, Forbidden, NotFound


class RegistryNotFound(NotFound):
    """No registry with this service name is known (404)."""

    type = "registry-not-found"
    title = "Registry not found"


class UnknownRegistry(Conflict):
    """A resource names a service (or a source topic) of no known registry (409): nobody is known to own it."""

    type = "unknown-registry"
    title = "No known registry"


class RegistryNotOwned(Forbidden):
    """A resource's provider does not own the registry its ``service`` or ``topic`` names (403)."""

    type = "registry-not-owned"
    title = "Registry owned by another department"


class ReservedService(Conflict):
    """The name is one of the platform's own services, never a registry (409)."""

    type = "reserved-service"
    title = "Reserved service name"
