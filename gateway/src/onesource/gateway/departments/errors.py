"""Errors of the departments domain."""

from __future__ import annotations

from onesource.kit.errors import Conflict, NotFound, ServiceError


class InvalidUscc(ServiceError):
    """The unified social credit code fails GB 32100-2015 (422)."""

    status = 422
    type = "invalid-uscc"
    title = "Invalid unified social credit code"

    def __init__(self, reason: str, *, field: str = "body.uscc") -> None:
        super().__init__(f"{field}: {reason}", invalid_params=[{"name": field, "reason": reason}])


class DuplicateDepartment(Conflict):
    """A department with this code or USCC already exists (409)."""

    type = "duplicate-department"
    title = "Department already exists"


class DepartmentNotFound(NotFound):
    """No department has this code (404)."""

    type = "department-not-found"
    title = "Department not found"
