"""Errors of grants."""

from __future__ import annotations

from onesource.kit.errors import Conflict, NotFound


class GrantNotFound(NotFound):
    """No grant has this id (404)."""

    type = "grant-not-found"
    title = "Grant not found"


class GrantNotActive(Conflict):
    """The grant is already revoked or expired (409)."""

    type = "grant-not-active"
    title = "Grant not active"
