"""Errors of data queries (the query's own 400 and 404 are in ``data.service``)."""

from __future__ import annotations

from onesource.kit.errors import ServiceError


class NotAcceptable(ServiceError):
    """The ``Accept`` header names no format this registry answers (406)."""

    status = 406
    type = "not-acceptable"
    title = "Not acceptable"
