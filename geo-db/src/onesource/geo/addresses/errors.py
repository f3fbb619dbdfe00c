"""Errors of the addresses domain."""

from __future__ import annotations

from collections.abc import Sequence

from onesource.geo.rules import FieldProblem
from onesource.kit.errors import Conflict, NotFound, ServiceError


class InvalidAddress(ServiceError):
    """The address breaks a registry rule or its geometry is invalid (422); ``invalid_params`` names each problem."""

    status = 422
    type = "invalid-address"
    title = "Invalid address"

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


class DuplicateAddress(Conflict):
    """An address with this code is already registered (409)."""

    type = "duplicate-address"
    title = "Address already registered"


class AddressNotFound(NotFound):
    """No address has this code (404)."""

    type = "address-not-found"
    title = "Address not found"


class AddressRetired(Conflict):
    """The address is retired (409): its record no longer changes."""

    type = "address-retired"
    title = "Address is retired"
