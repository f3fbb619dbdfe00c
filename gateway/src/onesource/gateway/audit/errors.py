"""Errors of the audit log."""

from __future__ import annotations

from typing import Any

from onesource.kit.errors import Forbidden, NotFound, ServiceError, ServiceUnavailable


class AuditUnavailable(ServiceUnavailable):
    """The audit entry could not be committed, so the answer is withheld (503): the gateway fails closed."""

    type = "audit-unavailable"
    title = "Audit log unavailable"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or "the audit entry of this call could not be committed; retry shortly", **extensions)
        # RFC 9110 §10.2.3: a hint for well-behaved clients; the writer usually recovers within a second.
        self.headers["Retry-After"] = "1"


class AuditResourceNotFound(NotFound):
    """The catalog knows no resource with this id (404)."""

    type = "resource-not-found"
    title = "Resource not found"


class AccessHistoryForbidden(Forbidden):
    """Only admins and the stewards of the resource's provider may read who accessed its records (403)."""

    type = "forbidden"
    title = "Not allowed"


class InvalidPeriod(ServiceError):
    """The statistics' period is not a period (422, naming ``since``)."""

    status = 422
    type = "validation-error"
    title = "Invalid period"

    def __init__(self, reason: str) -> None:
        super().__init__(reason, invalid_params=[{"name": "query.since", "reason": reason}])
