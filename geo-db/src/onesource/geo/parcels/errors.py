"""Errors of the parcels domain."""

from __future__ import annotations

from collections.abc import Sequence

from onesource.geo.rules import FieldProblem
from onesource.kit.errors import Conflict, NotFound, ServiceError


class InvalidParcel(ServiceError):
    """The parcel breaks a registry rule or its geometry is invalid (422); ``invalid_params`` names each problem."""

    status = 422
    type = "invalid-parcel"
    title = "Invalid parcel"

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        detail = "; ".join(f"{problem.field}: {problem.reason}" for problem in problems)
        super().__init__(
            detail,
            invalid_params=[
                {"name": f"body.{_where(problem.field)}", "reason": problem.reason} for problem in problems
            ],
        )


def _where(field: str) -> str:
    return field if field == "geometry" else f"properties.{field}"


class DuplicateParcel(Conflict):
    """A parcel with this code is already registered (409)."""

    type = "duplicate-parcel"
    title = "Parcel already registered"


class ParcelNotFound(NotFound):
    """No parcel has this code (404)."""

    type = "parcel-not-found"
    title = "Parcel not found"


class ParcelRetired(Conflict):
    """The parcel is retired (409): its record no longer changes."""

    type = "parcel-retired"
    title = "Parcel is retired"
