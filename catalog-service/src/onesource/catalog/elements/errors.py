"""Errors of the elements domain."""

from __future__ import annotations

from onesource.kit.errors import NotFound


class NoAuthoritativeSource(NotFound):
    """No published resource is the authoritative source of the element (404)."""

    type = "no-authoritative-source"
    title = "No authoritative source"
