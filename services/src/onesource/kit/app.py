"""The app factory every service uses: lifespan, health, metrics, problems, request ids, tracing."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, MutableMapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from opentelemetry import context as otel_context
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import MetaData, text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onesource.kit.auth import HttpRevocations, TokenVerifier, http_jwks_source
from onesource.kit.consumer import EventConsumer, is_outage
from onesource.kit.db import create_engine, create_read_pool, reading, sessionmaker_for
from onesource.kit.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE, install_problem_handlers, problem_response
from onesource.kit.idempotency import IdempotencyFactory, record_store
from onesource.kit.kafka import broker_reachable, ensure_topics
from onesource.kit.migrations import upgrade
from onesource.kit.outbox import OutboxRelay, Renderer
from onesource.kit.settings import ServiceSettings
from onesource.kit.storable import install as install_storable_input
from onesource.kit.storable import refuse_unstorable_target
from onesource.kit.telemetry import request_id_var, sampled_by_caller, setup_telemetry, unrecorded_context

logger = logging.getLogger(__name__)

REQUESTS = Counter("onesource_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "onesource_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

ConsumerFactory = Callable[[FastAPI], EventConsumer]
Extension = Callable[[FastAPI], AbstractAsyncContextManager[None]]


@dataclass
class ServiceSpec:
    """What makes one service: its settings, tables, routes, topics and background work."""

    name: str
    title: str
    description: str
    settings: ServiceSettings
    metadata: MetaData
    migrations_dir: Path
    routers: Sequence[APIRouter] = ()
    topics: Sequence[str] = ()
    """Source topics this service publishes to; provisioned at start-up."""
    renderers: Mapping[str, Renderer] = field(default_factory=dict)
    """Its relay's renderers of deferred events, by the name ``outbox.add_deferred`` is given."""
    consumers: Sequence[ConsumerFactory] = ()
    extensions: Sequence[Extension] = ()
    """Extra lifespan steps (run after the kit's own, torn down before them)."""
    token_verifier: Callable[[FastAPI], TokenVerifier] | None = None
    """Override how tokens are verified (the gateway verifies against its own keys)."""
    idempotency_record: type[Any] | None = None
    """The table class of its ``Idempotency-Key`` records (see ``kit.idempotency``), if it has creating POSTs."""
    idempotency: IdempotencyFactory | None = None
    """Override how ``Idempotency-Key`` answers are kept (the gateway seals them)."""
    tags: list[dict[str, Any]] = field(default_factory=list)


class RequestContextMiddleware:
    """``X-Request-Id`` (propagated or generated), HTTP metrics and request-head bounds, as plain ASGI.

    A request whose path and query together are longer than ``max_uri_bytes`` is answered 414 ``uri-too-long``, one
    whose header fields together are larger than ``max_header_bytes`` 431 ``headers-too-large`` (RFC 9110 §15.5.15,
    RFC 6585 §5), before anything else reads them: nothing that long is stored, logged or forwarded.

    With ``light_tracing`` (no span exporter), a request whose caller does not ask for sampling gets its trace
    context here, without a span (``telemetry.unrecorded_context``); FastAPI's instrumentation then leaves it out.
    """

    def __init__(
        self,
        app: ASGIApp,
        service: str,
        max_uri_bytes: int = 8192,
        max_header_bytes: int = 16384,
        light_tracing: bool = False,
    ) -> None:
        self.app = app
        self.service = service
        self.max_uri_bytes = max_uri_bytes
        self.max_header_bytes = max_header_bytes
        self.light_tracing = light_tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Tag the request and its response with the request id; count and time it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        trace_token = (
            otel_context.attach(unrecorded_context(scope["headers"]))
            if self.light_tracing and not sampled_by_caller(scope["headers"]) and not _probe(scope)
            else None
        )
        started = time.perf_counter()
        status = 500
        status_sent = False

        from_client: list[BaseException] = []

        async def receive_noting() -> Message:
            # A caller that breaks off its upload shows as an error here (a reset connection, an OSError like a
            # database's): it is the caller's doing, never a database outage.
            try:
                return await receive()
            except Exception as error:
                from_client.append(error)
                raise

        async def send_with_id(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status = message["status"]
                status_sent = True
                headers = [(name, value) for name, value in message.get("headers", []) if name != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                status, slug, title, detail = refusal
                await send_with_id(
                    {"type": "http.response.start", "status": status, "headers": [(b"content-type", PROBLEM)]}
                )
                body = _problem_body(scope, request_id, status=status, slug=slug, title=title, detail=detail)
                await send_with_id({"type": "http.response.body", "body": body})
                return
            await self.app(scope, receive_noting, send_with_id)
        except Exception as error:
            if is_outage(error) and not status_sent and not _among(error, from_client):
                # The database is restarting or unreachable: a 503 the caller may retry, not a 500 of ours.
                logger.warning("database unavailable on %s %s: %r", scope["method"], scope["path"], error)
                await send_with_id(
                    {
                        "type": "http.response.start",
                        "status": 503,
                        "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"retry-after", b"1")],
                    }
                )
                await send_with_id({"type": "http.response.body", "body": _unavailable_body(scope, request_id)})
                return
            # Answer here rather than in Starlette's outermost error middleware, so that the 500
            # problem carries the request id header like every other response.
            logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if status_sent:
                raise
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode())],
                }
            )
            await send_with_id({"type": "http.response.body", "body": _internal_error_body(scope, request_id)})
        finally:
            route = scope.get("route")
            template = route.path if route is not None and hasattr(route, "path") else "unmatched"
            method = scope["method"]
            REQUESTS.labels(self.service, method, template, str(status)).inc()
            REQUEST_SECONDS.labels(self.service, method, template).observe(time.perf_counter() - started)
            request_id_var.reset(token)
            if trace_token is not None:
                otel_context.detach(trace_token)

    def _refusal(self, scope: Scope) -> tuple[int, str, str, str] | None:
        """Why the request's head is refused (status, slug, title, detail), or ``None``."""
        uri = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        if uri > self.max_uri_bytes:
            detail = f"the path and query have {uri} bytes; at most {self.max_uri_bytes} are accepted"
            return 414, "uri-too-long", "URI too long", detail
        head = sum(len(name) + len(value) for name, value in scope["headers"])
        if head > self.max_header_bytes:
            detail = f"the header fields have {head} bytes; at most {self.max_header_bytes} are accepted"
            return 431, "headers-too-large", "Request header fields too large", detail
        return None


PROBLEM = PROBLEM_MEDIA_TYPE.encode()


def _problem_body(scope: Scope, request_id: str, *, status: int, slug: str, title: str, detail: str) -> bytes:
    instance = scope["path"]
    return json.dumps(
        {
            "type": PROBLEM_TYPE_BASE + slug,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": instance if len(instance) <= 200 else instance[:200] + "…",
            "request_id": request_id,
        }
    ).encode()


def _internal_error_body(scope: Scope, request_id: str) -> bytes:
    return _problem_body(
        scope,
        request_id,
        status=500,
        slug="internal-error",
        title="Internal error",
        detail="The service failed to process the request; quote the request id when reporting it.",
    )


def _unavailable_body(scope: Scope, request_id: str) -> bytes:
    return _problem_body(
        scope,
        request_id,
        status=503,
        slug="service-unavailable",
        title="Service unavailable",
        detail="The service's database is unavailable for a moment; try again shortly.",
    )


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _health_router(spec: ServiceSpec) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        """Answers while the process is alive."""
        return {"status": "ok", "service": spec.name}

    @router.get("/readyz", summary="Readiness", responses={503: {"description": "Not ready"}})
    async def readyz(request: Request) -> Response:
        """Answers 200 when the database and the broker are reachable."""
        checks: dict[str, str] = {}
        try:
            async with request.app.state.engine.connect() as connection:
                await asyncio.wait_for(connection.execute(text("SELECT 1")), 2.0)
            checks["database"] = "ok"
        except Exception as error:  # readiness reports, it does not raise
            checks["database"] = f"unavailable: {type(error).__name__}"
        checks["broker"] = "ok" if await broker_reachable(spec.settings.kafka) else "unavailable"
        if all(state == "ok" for state in checks.values()):
            return JSONResponse({"status": "ready", "service": spec.name, "checks": checks})
        return problem_response(
            request,
            status=503,
            slug="not-ready",
            title="Not ready",
            detail=", ".join(f"{name}: {state}" for name, state in checks.items() if state != "ok"),
            checks=checks,
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        """Prometheus text exposition of this process's metrics."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


#: How long background tasks (relay, consumers) get to finish after being cancelled at shutdown.
_TASK_STOP_SECONDS = 10.0


async def stop_tasks(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait for them, at most ``_TASK_STOP_SECONDS``.

    Bounded, so that one task that ignores its cancellation cannot hang the shutdown (it is logged and abandoned).
    """
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    _, stuck = await asyncio.wait(tasks, timeout=_TASK_STOP_SECONDS)
    for task in stuck:
        logger.warning("%s did not stop within %.0f s; abandoned", task.get_name(), _TASK_STOP_SECONDS)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: a task that failed on its way out is not reported again


@asynccontextmanager
async def background(work: Coroutine[Any, Any, Any], *, name: str) -> AsyncIterator[asyncio.Task[Any]]:
    """Run ``work`` as a task for as long as the block runs (a lifespan extension's background loop)."""
    task = asyncio.create_task(work, name=name)
    try:
        yield task
    finally:
        await stop_tasks([task])


def _lifespan(spec: ServiceSpec) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    settings = spec.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dsn = settings.database_url.get_secret_value()
        if settings.migrate_on_startup:
            logger.info("applying migrations")
            await asyncio.to_thread(upgrade, spec.migrations_dir, dsn)
        engine = create_engine(dsn, pool_size=settings.database_pool_size, application_name=spec.name)
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine)
        app.state.engine = engine
        app.state.sessionmaker = sessionmaker_for(engine)
        read_pool = await create_read_pool(dsn, size=settings.database_pool_size, application_name=spec.name)
        app.state.reader = read_pool
        app.state.reading = lambda: reading(read_pool)
        app.state.settings = settings
        http = httpx.AsyncClient(timeout=httpx.Timeout(10.0))
        app.state.http = http
        app.state.token_verifier = (
            spec.token_verifier(app)
            if spec.token_verifier
            else TokenVerifier(
                settings.auth,
                http_jwks_source(settings.auth.jwks_url, http),
                HttpRevocations(
                    settings.auth.revocations_url,
                    http,
                    refresh_seconds=settings.auth.revocations_refresh_seconds,
                    max_age_seconds=settings.auth.revocations_max_age_seconds,
                ),
            )
        )
        tasks: list[asyncio.Task[None]] = []
        relay: OutboxRelay | None = None
        try:
            await ensure_topics(settings.kafka, spec.topics, client_id=spec.name)
        except Exception as error:  # the relay provisions again before publishing
            logger.warning("could not provision topics yet: %r", error)
        if settings.relay_enabled:
            relay = OutboxRelay(
                engine,
                settings.kafka,
                service=spec.name,
                listen_dsn=_plain_dsn(dsn),
                batch_size=settings.relay_batch_size,
                poll_seconds=settings.relay_poll_seconds,
                renderers=spec.renderers,
            )
            app.state.relay = relay
            tasks.append(asyncio.create_task(relay.run(), name=f"{spec.name}-relay"))
        for factory in spec.consumers:
            consumer = factory(app)
            tasks.append(asyncio.create_task(consumer.run_forever(), name=consumer.name))
        async with contextlib.AsyncExitStack() as stack:
            for extension in spec.extensions:
                await stack.enter_async_context(extension(app))
            freeze_startup_objects()
            logger.info("%s ready", spec.name)
            try:
                yield
            finally:
                await stop_tasks(tasks)
                if relay is not None:
                    await relay.stop()
        await http.aclose()
        await read_pool.close()
        await engine.dispose()

    return lifespan


def freeze_startup_objects() -> None:
    """Take what start-up built (modules, the app, its clients) out of the cyclic garbage collector's passes.

    None of it is garbage while the process runs, yet each full collection walks all of it (~150,000 objects, about
    100 ms in which the event loop answers nothing): a stall that every call in flight waits out, at random.
    """
    gc.collect()
    gc.freeze()


def _plain_dsn(dsn: str) -> str:
    """The asyncpg form of a SQLAlchemy DSN (for LISTEN connections)."""
    return dsn.replace("postgresql+asyncpg://", "postgresql://", 1)


#: Probes and scrapes: traced, they would be most of a quiet service's spans.
_UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _probe(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in _UNTRACED_PATHS


def _untraced_when(light_tracing: bool) -> Callable[[MutableMapping[str, Any]], bool]:
    """Which requests FastAPI's instrumentation leaves out: probes, and (``light_tracing``) unsampled requests."""

    def untraced(scope: MutableMapping[str, Any]) -> bool:
        return _probe(scope) or (light_tracing and not sampled_by_caller(scope.get("headers", ())))

    return untraced


def create_service_app(spec: ServiceSpec) -> FastAPI:
    """Build a service's FastAPI app from its spec."""
    setup_telemetry(spec.name, spec.settings.telemetry)
    light_tracing = spec.settings.telemetry.exporter == "none"
    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="0.1.0",
        lifespan=_lifespan(spec),
        generate_unique_id_function=_operation_id,
        openapi_tags=[*spec.tags, {"name": "health", "description": "Liveness, readiness and metrics."}],
        # FastAPI's own OpenTelemetry: a server span per request, continuing the caller's `traceparent`. Metrics
        # are Prometheus' (RequestContextMiddleware) and logs are ours; no spans inside a request, which would
        # cost more than most requests.
        telemetry={
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "exclude": _untraced_when(light_tracing),
        },
        dependencies=[Depends(refuse_unstorable_target)],
    )
    install_problem_handlers(app)
    install_storable_input(app)
    app.state.service_name = spec.name
    app.state.spec = spec
    if spec.idempotency is not None:
        app.state.idempotency = spec.idempotency
    elif spec.idempotency_record is not None:
        app.state.idempotency = record_store(spec.idempotency_record)
    app.include_router(_health_router(spec))
    for router in spec.routers:
        app.include_router(router)
    app.add_middleware(
        RequestContextMiddleware,
        service=spec.name,
        max_uri_bytes=spec.settings.max_uri_bytes,
        max_header_bytes=spec.settings.max_header_bytes,
        light_tracing=light_tracing,
    )
    return app


def _among(error: BaseException, raised: list[BaseException]) -> bool:
    """Whether ``error`` is one of ``raised`` or was raised while handling or because of one."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return False
        if any(seen is other for other in raised):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
