"""Errors of the persons domain."""

from __future__ import annotations

from collections.abc import Sequence

from onesource.kit.errors import Conflict, NotFound, ServiceError
from onesource.population.persons.rules import FieldProblem


class InvalidPerson(ServiceError):
    """The record breaks a registry rule (422); ``invalid_params`` names each field and why."""

    status = 422
    type = "invalid-person"
    title = "Invalid person record"

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        detail = "; ".join(f"{problem.field}: {problem.reason}" for problem in problems)
        super().__init__(
            detail, invalid_params=[{"name": f"body.{problem.field}", "reason": problem.reason} for problem in problems]
        )


class DuplicatePerson(Conflict):
    """A person with this ID number is already registered (409)."""

    type = "duplicate-person"
    title = "Person already registered"


class PersonNotFound(NotFound):
    """No person has this ID number (404)."""

    type = "person-not-found"
    title = "Person not found"


class PersonDeceasedAlready(Conflict):
    """The person's death is already registered (409): the record no longer changes."""

    type = "person-deceased"
    title = "Person is deceased"
