"""Errors of the clients domain."""

from __future__ import annotations

from onesource.kit.errors import Conflict, NotFound, ServiceError


class DuplicateClient(Conflict):
    """A client with this id already exists (409)."""

    type = "duplicate-client"
    title = "Client already exists"


class ReservedClientId(Conflict):
    """The client id names the platform itself (``admin``, ``gateway``, ``exchange`` …): never registered (409)."""

    type = "reserved-client-id"
    title = "Client id reserved"


class ClientNotFound(NotFound):
    """No client has this id (404)."""

    type = "client-not-found"
    title = "Client not found"


class UnknownDepartment(ServiceError):
    """The body names a department that is not registered (422)."""

    status = 422
    type = "unknown-department"
    title = "Unknown department"

    def __init__(self, department: str) -> None:
        super().__init__(
            f"department {department!r} is not registered",
            invalid_params=[{"name": "body.department", "reason": "no department has this code"}],
        )
