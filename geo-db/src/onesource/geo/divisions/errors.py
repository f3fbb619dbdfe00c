"""Errors of the divisions domain."""

from __future__ import annotations

from onesource.kit.errors import NotFound


class DivisionNotFound(NotFound):
    """No division had this code on the date asked about (404); the detail says when it existed, if ever."""

    type = "division-not-found"
    title = "Division not found"
