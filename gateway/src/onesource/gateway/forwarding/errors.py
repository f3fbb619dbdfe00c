"""Errors of forwarding to the services behind the gateway, and the refusals of data calls."""

from __future__ import annotations

from typing import Any

from onesource.kit.errors import BadRequest, Forbidden, NotFound, ServiceError, ServiceUnavailable


class UnknownService(NotFound):
    """No service behind the gateway has this name (404)."""

    type = "unknown-service"
    title = "Unknown service"


class UnsafePath(BadRequest):
    """The forwarded path contains ``.`` or ``..`` segments (400)."""

    type = "unsafe-path"
    title = "Unsafe path"


class InvalidHeader(BadRequest):
    """A header the gateway would pass on is not text it can send (400)."""

    type = "invalid-header"
    title = "Invalid header"


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


class UnmaskableAnswer(ServiceError):
    """The service answered a non-owner with something the gateway cannot mask, so nothing is passed on (502)."""

    status = 502
    type = "unmaskable-answer"
    title = "Answer cannot be masked"


class RateLimited(ServiceError):
    """The client made more calls than its rate allows (429); ``Retry-After`` says when to try again."""

    status = 429
    type = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.headers["Retry-After"] = str(retry_after)


class PurposeRequired(BadRequest):
    """A data call without ``X-OneSource-Purpose`` (400)."""

    type = "purpose-required"
    title = "Purpose required"


class PurposeTooLong(ServiceError):
    """``X-OneSource-Purpose`` is longer than any grant's purpose may be (431, RFC 6585 §5)."""

    status = 431
    type = "purpose-too-long"
    title = "Purpose too long"


class PageTooLarge(ServiceError):
    """A data call asked for a page larger than the gateway passes on (413)."""

    status = 413
    type = "page-too-large"
    title = "Page too large"


class GrantsUnknown(ServiceUnavailable):
    """The gateway cannot tell yet which grants exist, and asking the exchange failed (503); it fails closed."""

    type = "grants-unknown"
    title = "Grants not known yet"

    def __init__(self, detail: str | None = None, *, retry_after: int, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.headers["Retry-After"] = str(retry_after)


class NotCovered(NotFound):
    """No published catalog resource covers the path (404)."""

    type = "not-covered"
    title = "Not covered by any resource"


class MethodNotAllowed(ServiceError):
    """Only a resource's provider writes through the gateway; everyone else reads (405)."""

    status = 405
    type = "method-not-allowed"
    title = "Method not allowed"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.headers["Allow"] = "GET, HEAD"


class NoGrant(Forbidden):
    """The caller's department holds no grant in force on any resource covering the path (403)."""

    type = "no-grant"
    title = "No grant"


class PurposeMismatch(Forbidden):
    """The caller's department holds grants on the path, but none for the stated purpose (403)."""

    type = "purpose-mismatch"
    title = "Purpose does not match the grant"


class FilterNotGranted(Forbidden):
    """A query parameter filters on something the caller's grants do not cover (403).

    Filtering reveals values even when they are masked from the answer (``?name=王`` tells whose name starts with
    王), so a non-owner may filter only on fields granted to it for this purpose (and page with ``limit``, ``cursor``).
    """

    type = "filter-not-granted"
    title = "Filter not granted"


class RecordNotFound(NotFound):
    """No record at this path that the caller may read: absent and out of the grants' row scope look the same (404)."""

    type = "record-not-found"
    title = "Record not found"
