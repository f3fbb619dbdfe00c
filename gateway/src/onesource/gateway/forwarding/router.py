"""The one door: ``/api/<service>/<path>``, management calls passed on and data calls checked, masked and audited."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from onesource.gateway.forwarding import paths
from onesource.gateway.forwarding import service as forwarding
from onesource.kit.errors import ServiceError, problem_responses
from onesource.kit.storable import check_target

router = APIRouter(tags=["forwarding"])

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

_DESCRIPTION = """Pass a call on to the service named in the path: `/api/<service>/<path>` goes to `<path>` on the
service's base URL (`ONESOURCE_GATEWAY_SERVICE_URLS`), e.g. `/api/population/v1/persons/11010519491231002X` →
population `/v1/persons/11010519491231002X`. The path is decoded once, as the service decodes it, and forwarded
re-encoded: a segment that is `.` or `..`, or holds `/`, `?`, `#`, `%` or a backslash once decoded (`%2F`, `%3F`,
`%25`…), is 400 `unsafe-path`; NUL is 422 `unstorable-input` (both audited).

**Management calls** (`catalog`, `exchange`, and any service's `/healthz` and `/readyz`) are passed on with the
caller's own token, which the service checks: method, query, body and the headers `Authorization`, `Content-Type`,
`Accept`, `If-Match`, `Idempotency-Key`, `X-OneSource-Purpose`, `X-Request-Id` go on; status, body and `Content-Type`,
`ETag`, `Location`, `Retry-After` come back.

**Data calls** (the registries: `population`, `legal-entity`, `geo`, `macroeconomy`) are checked in this order: 401
without a valid token; 429 `rate-limited` (with `Retry-After`) over the client's rate; 400 `purpose-required`
without `X-OneSource-Purpose` (percent-encoded UTF-8), 431 `purpose-too-long` over 500 characters; 413
`content-too-large` for a body over the limit, 413 `page-too-large` for `limit` over 200; 503 `grants-unknown` (with
`Retry-After`) while the gateway cannot know the grants; 404 `not-covered` when no published catalog resource of the
registry's owner covers the path. The owner is passed on as for a management call; it also reaches the registry's
paths no resource covers (bulk imports), where a `POST` larger than a body (or chunked) is streamed through as it
arrives, up to `ONESOURCE_GATEWAY_MAX_UPLOAD_BYTES` (413, and the upload broken off, beyond). Anyone else may only
read (405 otherwise), needs a grant in force on a covering resource (403 `no-grant`) for the stated purpose (403
`purpose-mismatch`), and gets only the fields its grants for that purpose cover and only the records in their row
scope — never record metadata (`version`, `created_at`, `updated_at`, `ETag`). A record outside every row scope is
404 `record-not-found`, like an absent one; a page the row scope empties has no `next_cursor`. Every data call is
written to the audit log before it is answered; when that fails, 503 `audit-unavailable` and no data. A path and
query over 8 KiB is 414 `uri-too-long`, header fields over 16 KiB 431 `headers-too-large` (on every service).

`identity` and `audit` are answered by the gateway itself. Unknown service: 404 `unknown-service` (audited); service
unreachable: 502 `upstream-unavailable`; an answer that cannot be masked: 502 `unmaskable-answer`; no answer in
time: 504 `upstream-timeout`."""


async def forward_request(service: str, path: str, request: Request) -> Response:
    """Pass the call on: as a management call, or checked, masked and audited as a data call."""
    started, arrived = time.perf_counter(), datetime.now(UTC)
    # The raw path keeps the caller's percent-encoding (``path`` is decoded, so ``%2F`` would become ``/``): the
    # service and path are read from it, once (see ``paths``).
    raw_target = (request.scope.get("raw_path") or quote(request.url.path).encode()).decode("latin-1")
    refusal: ServiceError | None = None
    try:
        check_target(request.scope)
        target = paths.parse(raw_target)
    except ServiceError as error:  # answered as a data call, so that it is audited
        target, refusal = paths.Target(service=service, path=f"/{path}", raw_path=""), error
    query = request.scope["query_string"].decode("latin-1")  # as Starlette's ``request.url.query``, unparsed
    call = forwarding.Call(
        method=request.method,
        service=target.service,
        path=target.path,
        raw_path=target.raw_path,
        query=query,
        target=f"{raw_target}?{query}" if query else raw_target,
        headers=request.headers,
        request_id=getattr(request.state, "request_id", None) or uuid.uuid4().hex,
        arrived=arrived,
        started=started,
        refusal=refusal,
    )
    door = forwarding.door_of(request)
    if refusal is None and forwarding.is_management(call, door.settings):
        return await forwarding.answer_management_call(request, call, door)
    return await forwarding.answer_data_call(request, call, door)


for _method in METHODS:
    router.add_api_route(
        "/api/{service}/{path:path}",
        forward_request,
        methods=[_method],
        name=f"forward_{_method.lower()}",
        summary=f"Pass a {_method} call on to a service",
        description=_DESCRIPTION,
        response_class=Response,
        responses={
            200: {"description": "The service's answer: as it is for management calls and owners, masked otherwise"},
            **problem_responses(400, 401, 403, 404, 405, 413, 414, 422, 429, 431, 502, 503, 504),
        },
    )


#: ``/api/<service>/<path>``, as the routes above match it (the path is the decoded one, as Starlette routes it).
_FORWARDED = re.compile(r"/api/(?P<service>[^/]+)/(?P<path>.*)", re.DOTALL)
#: What the metrics label a forwarded call with: the route's template, as when FastAPI routes it.
_ROUTE = SimpleNamespace(path="/api/{service}/{path:path}")


class ForwardingShortcut:
    """Hands ``/api/<service>/…`` calls straight to :func:`forward_request`, past FastAPI's routing.

    Every call through the door would otherwise be matched against every identity and audit route before the
    catch-all, and have its parameters resolved by dependency injection it does not use: most of what the
    gateway adds to a read, apart from the hop itself and the audit commit. The routes above stay: they are the
    same handler, and what the OpenAPI document describes. It sits inside the kit's request-context middleware
    (request ids, metrics, unexpected errors) and FastAPI's tracing, which still see every call.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a forwarded call here; pass anything else on to FastAPI."""
        if scope["type"] == "http" and scope["method"] in METHODS:
            match = _FORWARDED.fullmatch(scope["path"])
            if match is not None and match["service"] not in forwarding.RESERVED:
                scope["route"] = _ROUTE
                request = Request(scope, receive)
                try:
                    response = await forward_request(match["service"], match["path"], request)
                except ServiceError as error:
                    response = forwarding.problem(request, error)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
