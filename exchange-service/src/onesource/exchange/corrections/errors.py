"""Errors of corrections."""

from __future__ import annotations

from onesource.kit.errors import Conflict, Forbidden, NotFound, ServiceError


class CorrectionNotFound(NotFound):
    """No correction report has this id (404)."""

    type = "correction-not-found"
    title = "Correction not found"


class FieldNotGranted(Forbidden):
    """The reporting department holds no active grant covering the field (403)."""

    type = "field-not-granted"
    title = "Field not granted"


class UnknownField(ServiceError):
    """The resource has no such field (422)."""

    status = 422
    type = "unknown-field"
    title = "Unknown field"


class CorrectionClosed(Conflict):
    """The report was already resolved or dismissed (409)."""

    type = "correction-closed"
    title = "Correction already closed"
