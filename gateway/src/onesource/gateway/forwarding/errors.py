"""Errors of forwarding to the services behind the gateway."""

from __future__ import annotations

from onesource.kit.errors import BadRequest, NotFound, ServiceError


class UnknownService(NotFound):
    """No service behind the gateway has this name (404)."""

    type = "unknown-service"
    title = "Unknown service"


class UnsafePath(BadRequest):
    """The forwarded path contains ``.`` or ``..`` segments (400)."""

    type = "unsafe-path"
    title = "Unsafe path"


class UpstreamUnavailable(ServiceError):
    """The service could not be reached (502)."""

    status = 502
    type = "upstream-unavailable"
    title = "Upstream unavailable"


class UpstreamTimeout(ServiceError):
    """The service did not answer in time (504)."""

    status = 504
    type = "upstream-timeout"
    title = "Upstream timeout"
