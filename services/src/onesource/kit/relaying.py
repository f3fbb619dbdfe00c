"""The outbox relays of several services as one process of their own (``onesource.kit.relaying:create_app``).

In the local mesh and in ``deploy/`` the relay runs apart from the services' HTTP processes: a service under write
load would otherwise share its event loop between handling requests and publishing their events, and the events
wait behind the requests (commit → broker p99 of hundreds of milliseconds). Here each relay has a loop that does
nothing else; the app itself only answers ``/healthz``, ``/readyz`` (every relay's database and broker reachable)
and ``/metrics`` (the relays' counters). The services then run with ``<PREFIX>RELAY_ENABLED=false``; tests keep the
in-process relay.

``ONESOURCE_RELAY_APPS`` names the services by their app factories (``onesource.population.main:create_app,…``);
each service's own settings (its database, its renderers of deferred events) come from its ``ServiceSpec``.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from onesource.kit.app import ServiceSpec, freeze_startup_objects, stop_tasks
from onesource.kit.db import create_engine
from onesource.kit.kafka import broker_reachable, ensure_topics
from onesource.kit.outbox import OutboxRelay
from onesource.kit.telemetry import setup_telemetry

logger = logging.getLogger(__name__)

APPS_ENV = "ONESOURCE_RELAY_APPS"


@dataclass
class _Relayed:
    spec: ServiceSpec
    engine: AsyncEngine
    relay: OutboxRelay


def service_spec(factory: str) -> ServiceSpec:
    """The ``ServiceSpec`` of the service whose app factory is ``module:function``."""
    module, _, name = factory.partition(":")
    app = getattr(importlib.import_module(module), name)()
    spec: ServiceSpec = app.state.spec
    return spec


def _relayed(spec: ServiceSpec) -> _Relayed:
    settings = spec.settings
    dsn = settings.database_url.get_secret_value()
    # Two connections: the claims of one pass, and renderers reading the rows they render.
    engine = create_engine(dsn, pool_size=2, application_name=f"{spec.name}-relay")
    relay = OutboxRelay(
        engine,
        settings.kafka,
        service=spec.name,
        listen_dsn=dsn.replace("postgresql+asyncpg://", "postgresql://", 1),
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
        renderers=spec.renderers,
    )
    return _Relayed(spec, engine, relay)


def create_app(factories: Sequence[str] | None = None) -> FastAPI:
    """The relay process: one outbox relay per named service, and the probes."""
    names = list(factories) if factories is not None else [f for f in os.environ.get(APPS_ENV, "").split(",") if f]
    if not names:
        raise RuntimeError(f"no services to relay for: set {APPS_ENV} to their app factories")
    specs = [service_spec(factory) for factory in names]
    setup_telemetry("relay", specs[0].settings.telemetry)
    relayed: list[_Relayed] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        relayed.extend(_relayed(spec) for spec in specs)
        for entry in relayed:
            try:
                await ensure_topics(entry.spec.settings.kafka, entry.spec.topics, client_id=f"{entry.spec.name}-relay")
            except Exception as error:  # the relay provisions again before publishing
                logger.warning("could not provision %s's topics yet: %r", entry.spec.name, error)
        tasks = [asyncio.create_task(entry.relay.run(), name=f"{entry.spec.name}-relay") for entry in relayed]
        freeze_startup_objects()
        logger.info("relaying for %s", ", ".join(spec.name for spec in specs))
        try:
            yield
        finally:
            await stop_tasks(tasks)
            for entry in relayed:
                await entry.relay.stop()
                await entry.engine.dispose()

    app = FastAPI(title="OneSource outbox relay", lifespan=lifespan, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "relay"}

    @app.get("/readyz")
    async def readyz() -> Response:
        checks: dict[str, str] = {}
        for entry in relayed:
            try:
                async with entry.engine.connect() as connection:
                    await asyncio.wait_for(connection.execute(text("SELECT 1")), 2.0)
                database = "ok"
            except Exception as error:  # readiness reports, it does not raise
                database = f"unavailable: {type(error).__name__}"
            broker = "ok" if await broker_reachable(entry.spec.settings.kafka) else "unavailable"
            checks[entry.spec.name] = "ok" if database == broker == "ok" else f"database {database}, broker {broker}"
        ready = bool(relayed) and all(state == "ok" for state in checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
