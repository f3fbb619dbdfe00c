"""Errors of the departments read model."""

from __future__ import annotations

from onesource.kit.errors import Conflict


class UnknownProvider(Conflict):
    """A resource names a provider that is no registered department (409)."""

    type = "unknown-provider"
    title = "Provider is no registered department"
