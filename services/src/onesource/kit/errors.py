"""Domain errors and their RFC 9457 problem rendering.

Services raise subclasses of :class:`ServiceError`; one set of handlers turns every error — domain,
validation, routing, unexpected — into ``application/problem+json`` with a stable ``type`` slug.
No stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://onesource.gov.cn/problems/"


class ServiceError(Exception):
    """Base of every domain error: carries its HTTP status, problem type slug and title."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions
        self.headers: dict[str, str] = {}


class BadRequest(ServiceError):
    """The request cannot be processed as sent (400)."""

    status = 400
    type = "bad-request"
    title = "Bad request"


class Unauthorized(ServiceError):
    """No valid credentials (401)."""

    status = 401
    type = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.headers["WWW-Authenticate"] = 'Bearer realm="onesource"'


class Forbidden(ServiceError):
    """Authenticated, but not allowed to do this (403)."""

    status = 403
    type = "forbidden"
    title = "Not allowed"


class NotFound(ServiceError):
    """The addressed thing does not exist (404)."""

    status = 404
    type = "not-found"
    title = "Not found"


class Conflict(ServiceError):
    """The request conflicts with the current state (409)."""

    status = 409
    type = "conflict"
    title = "Conflict"


class PreconditionFailed(ServiceError):
    """``If-Match`` names a version that is no longer current (412)."""

    status = 412
    type = "precondition-failed"
    title = "Precondition failed"


class ContentTooLarge(ServiceError):
    """The request body is larger than this endpoint accepts (413)."""

    status = 413
    type = "content-too-large"
    title = "Content too large"


class UnsupportedMediaType(ServiceError):
    """The request body's ``Content-Type`` is not one this endpoint reads (415)."""

    status = 415
    type = "unsupported-media-type"
    title = "Unsupported media type"


class PreconditionRequired(ServiceError):
    """An update without ``If-Match``: send the ``ETag`` you read, so no one else's change is overwritten (428)."""

    status = 428
    type = "precondition-required"
    title = "Precondition required"


class ServiceUnavailable(ServiceError):
    """A dependency is unavailable; try again later (503)."""

    status = 503
    type = "service-unavailable"
    title = "Service unavailable"


class InvalidParam(BaseModel):
    """One offending input field."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    name: str
    """Where the field is: ``body.sex``, ``query.limit`` …"""
    reason: str
    """What is wrong with it."""


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="allow")

    type: str
    """Stable URI naming the kind of problem; its last segment is the slug."""
    title: str
    """Short summary of the kind of problem."""
    status: int
    """HTTP status code."""
    detail: str
    """What went wrong this time."""
    instance: str | None = None
    """The request path."""
    request_id: str | None = None
    """The ``X-Request-Id`` of the failed request, for support."""
    invalid_params: list[InvalidParam] | None = None
    """For validation errors: every offending field."""


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """Render one problem as ``application/problem+json``."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
    }
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    if exc.status >= 500:
        logger.error("request failed: %s", exc.detail)
    return problem_response(
        request,
        status=exc.status,
        slug=exc.type,
        title=exc.title,
        detail=exc.detail,
        headers=exc.headers or None,
        **exc.extensions,
    )


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    params = [{"name": _location(tuple(error["loc"])), "reason": error["msg"]} for error in exc.errors()]
    malformed = any(error["type"] == "json_invalid" for error in exc.errors())
    return problem_response(
        request,
        status=422,
        slug="malformed-json" if malformed else "validation-error",
        title="Malformed JSON body" if malformed else "Invalid input",
        detail="; ".join(f"{p['name']}: {p['reason']}" for p in params) or "Invalid input",
        invalid_params=params,
    )


_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("too-many-requests", "Too many requests"),
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem_response(request, status=exc.status_code, slug=slug, title=title, detail=detail, headers=exc.headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error as problem JSON (unexpected ones: see ``RequestContextMiddleware``)."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Declare problem responses for a route so its OpenAPI shows them."""
    return {
        status: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": "Problem"} for status in statuses
    }
