"""Errors of the people domain."""

from __future__ import annotations

from onesource.kit.errors import Conflict, NotFound


class DuplicatePerson(Conflict):
    """A person with this username already exists (409)."""

    type = "duplicate-person"
    title = "Person already exists"


class PersonNotFound(NotFound):
    """No person has this username (404)."""

    type = "person-not-found"
    title = "Person not found"
