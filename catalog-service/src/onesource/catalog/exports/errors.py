"""Errors of the exports domain."""

from __future__ import annotations

from onesource.kit.errors import ServiceError


class NotAcceptable(ServiceError):
    """None of the media types ``Accept`` takes is offered (406)."""

    status = 406
    type = "not-acceptable"
    title = "Not acceptable"
