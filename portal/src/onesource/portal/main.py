"""create_app(): the portal's pages, its sign-in, security headers, and its one outgoing client (the gateway)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from onesource.kit.app import freeze_startup_objects
from onesource.portal.gateway import ApiProblem, Gateway, SignInExpired
from onesource.portal.pages import (
    admin,
    audit,
    auth,
    catalog,
    corrections,
    grants,
    records,
    requests,
    statistics,
    stewardship,
)
from onesource.portal.sessions import SESSION_COOKIE, Sealer
from onesource.portal.settings import Settings
from onesource.portal.web import CsrfRefused, NotAllowed, NotSignedIn, render, set_session_cookie


def content_security_policy(settings: Settings) -> str:
    """No script at all, styles and images from the portal only, forms post to the portal only, never framed."""
    return (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def create_app(settings: Settings | None = None, gateway_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """Build the portal app; ``gateway_transport`` replaces the network to the gateway (tests: an app in process)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            base_url=settings.gateway_url, timeout=settings.request_timeout_seconds, transport=gateway_transport
        ) as http:
            app.state.gateway = Gateway(settings, http)
            freeze_startup_objects()
            yield

    app = FastAPI(
        title="OneSource steward portal",
        description="Server-rendered pages (Chinese) through which people run OneSource via the gateway's API.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.sealer = Sealer(settings.session_secret.get_secret_value())
    policy = content_security_policy(settings)

    @app.middleware("http")
    async def security(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        session = getattr(request.state, "session", None)
        loaded = getattr(request.state, "loaded_token", None)
        if session is not None and session.access_token != loaded and SESSION_COOKIE not in _set_cookies(response):
            # A renewed token: the cookie must carry it (the old refresh token is used up).
            set_session_cookie(response, app.state.sealer.seal_session(session), settings, session.expires_at)
        return response

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, error: NotSignedIn) -> Response:
        return RedirectResponse(f"/login?next={quote(error.next_path)}", status_code=303)

    @app.exception_handler(SignInExpired)
    async def sign_in_expired(request: Request, error: SignInExpired) -> Response:
        request.state.session = None
        response = RedirectResponse("/?notice=" + quote("登录已过期，请重新登录。"), status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, error: NotAllowed) -> Response:
        return render(request, "error.html", status_code=403, title="无权访问", message=str(error))

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, error: CsrfRefused) -> Response:
        return render(request, "error.html", status_code=403, title="请求被拒绝", message=str(error))

    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, problem: ApiProblem) -> Response:
        return render(request, "error.html", problem=problem, title=problem.title, message=problem.detail)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> JSONResponse:
        """Liveness: the process answers."""
        return JSONResponse({"status": "ok"})

    @app.get("/metrics", tags=["health"])
    async def metrics() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the gateway, through which every page works, answers."""
        try:
            answer = await request.app.state.gateway.http.get("/healthz", timeout=2.0)
            state = "ok" if answer.status_code == 200 else f"unavailable: HTTP {answer.status_code}"
        except httpx.HTTPError as error:
            state = f"unavailable: {type(error).__name__}"
        ready = state == "ok"
        # The kit's shape (``checks`` by dependency); the portal's one dependency is the gateway.
        body = {"status": "ready" if ready else "not ready", "service": "portal", "checks": {"gateway": state}}
        return JSONResponse(body, status_code=200 if ready else 503)

    for module in (auth, catalog, stewardship, requests, grants, corrections, records, audit, statistics, admin):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app


def _set_cookies(response: Response) -> str:
    return " ".join(value.decode("latin-1") for name, value in response.raw_headers if name == b"set-cookie")
