"""Errors of the resources domain."""

from __future__ import annotations

from typing import Any

from onesource.kit.errors import Conflict, NotFound, ServiceError


class InvalidResource(ServiceError):
    """The resource document breaks a rule that spans fields (422, shaped like every validation error)."""

    status = 422
    type = "validation-error"
    title = "Invalid input"

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__(
            "; ".join(f"{problem['name']}: {problem['reason']}" for problem in problems), invalid_params=problems
        )


class ResourceNotFound(NotFound):
    """No resource with this id, or none the caller may see (404)."""

    type = "resource-not-found"
    title = "Resource not found"


class DuplicateResource(Conflict):
    """A resource with this id exists already (409)."""

    type = "duplicate-resource"
    title = "Resource already exists"


class DuplicateAuthoritativeSource(Conflict):
    """Another published resource is already the authoritative source of the element (409)."""

    type = "duplicate-authoritative-source"
    title = "The element already has an authoritative source"

    def __init__(self, element: str, field: str, owner: dict[str, Any]) -> None:
        super().__init__(
            f"field {field!r} claims element {element!r}, whose authoritative source is field "
            f"{owner['field']!r} of resource {owner['resource']!r} (provider {owner['provider']!r}); "
            "declare the field as a copy with source_element instead",
            element=element,
            field=field,
            owner=owner,
        )


class InvalidTransition(Conflict):
    """The resource's status does not allow this (409)."""

    type = "invalid-status-transition"
    title = "Not allowed in the resource's status"


class RetiredResource(Conflict):
    """A retired resource cannot change (409)."""

    type = "resource-retired"
    title = "Resource is retired"


class ResourceHasActiveGrants(Conflict):
    """Retiring is refused while grants on the resource are active (409)."""

    type = "resource-has-active-grants"
    title = "Resource has active grants"
