"""Errors of the catalog read model."""

from __future__ import annotations

from onesource.kit.errors import Conflict, NotFound, ServiceUnavailable


class ResourceNotFound(NotFound):
    """The catalog has no such resource (404)."""

    type = "resource-not-found"
    title = "Resource not found"


class ResourceNotShareable(Conflict):
    """The resource is retired or not yet published, so it cannot be requested or subscribed to (409)."""

    type = "resource-not-shareable"
    title = "Resource not shareable"


class CatalogUnavailable(ServiceUnavailable):
    """The catalog could not be asked about a resource the read model does not know (503)."""

    type = "catalog-unavailable"
    title = "Catalog unavailable"
