"""The temporary catch-all that forwards ``/api/<service>/<path>`` to the services behind the gateway."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from onesource.gateway.dependencies import SettingsDep
from onesource.gateway.forwarding import service as forwarding
from onesource.kit.errors import problem_responses

router = APIRouter(tags=["forwarding"])

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

_DESCRIPTION = """Forward the request to the named service (temporary: until the gateway enforces grants).

`/api/<service>/<path>` goes to `<path>` on the service's base URL (`ONESOURCE_GATEWAY_SERVICE_URLS`), e.g.
`/api/population/v1/persons/11010519491231002X` → population `/v1/persons/11010519491231002X`. The method, query
string, body and the headers `Authorization`, `Content-Type`, `Accept`, `If-Match`, `Idempotency-Key`,
`X-OneSource-Purpose` and `X-Request-Id` are passed on; the answer's status, body and the headers `Content-Type`,
`ETag`, `Location` and `Retry-After` come back (`X-Request-Id` is the gateway's, which the service was sent).
The service checks the caller's token itself. `identity` and `audit` are answered by the gateway.
Unknown service: 404 `unknown-service`; service unreachable: 502 `upstream-unavailable`; no answer in time:
504 `upstream-timeout`; `.` or `..` path segments: 400 `unsafe-path`."""


async def forward_request(service: str, path: str, request: Request, settings: SettingsDep) -> Response:
    """Forward the request to the named service."""
    # The raw path keeps the caller's percent-encoding (``path`` is decoded, so ``%2F`` would become ``/``).
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    prefix = f"/api/{service}/".encode()
    raw_rest = raw_path[len(prefix) :].decode("latin-1") if raw_path.startswith(prefix) else path
    url = forwarding.target_url(settings.service_urls, service, raw_rest, request.url.query)
    upstream = await forwarding.forward(
        request.app.state.http,
        request.method,
        url,
        request.headers,
        await request.body(),
        service=service,
        request_id=getattr(request.state, "request_id", None),
    )
    return Response(upstream.body, status_code=upstream.status, headers=upstream.headers)


for _method in METHODS:
    router.add_api_route(
        "/api/{service}/{path:path}",
        forward_request,
        methods=[_method],
        name=f"forward_{_method.lower()}",
        summary=f"Forward a {_method} request to a service",
        description=_DESCRIPTION,
        response_class=Response,
        responses={
            200: {"description": "The service's answer, passed through"},
            **problem_responses(400, 404, 502, 504),
        },
    )
