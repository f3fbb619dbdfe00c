"""Errors of the signing keys domain."""

from __future__ import annotations

from onesource.kit.errors import ServiceUnavailable


class NoActiveSigningKey(ServiceUnavailable):
    """No active signing key exists yet (503); the gateway creates one at start-up."""

    type = "no-active-signing-key"
    title = "No active signing key"
