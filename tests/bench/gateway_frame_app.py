"""The gateway's physical frame: the smallest FastAPI app doing the gateway's hop for a read by key, for ``gateway.py``.

A known bearer token (one dictionary lookup: what a verified-token cache hit is), the call forwarded to the registry
over a keep-alive connection (the gateway's own HTTP client), the answer parsed and cut to the granted fields, one
audit row inserted (autocommit: no hash chain, no group commit), the masked record answered. No grants, purpose,
rate limit, request ids, metrics or tracing. ``uvicorn --factory tests.bench.gateway_frame_app:create_app`` with
``FRAME_DSN``, ``FRAME_REGISTRY`` (base URL), ``FRAME_CALLER_TOKEN`` and ``FRAME_REGISTRY_TOKEN`` set.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, HTTPException, Request, Response

from onesource.gateway.forwarding.upstream import HttpUpstreams

FIELDS = ("id_number", "name", "sex", "birth_date")
AUDIT_TABLE = """CREATE TABLE IF NOT EXISTS frame_audit (
    seq bigserial PRIMARY KEY, time timestamptz NOT NULL DEFAULT now(), client_id text, path text NOT NULL,
    status integer NOT NULL, record_keys text[] NOT NULL, fields text[] NOT NULL
)"""


def create_app() -> FastAPI:
    dsn, registry = os.environ["FRAME_DSN"], os.environ["FRAME_REGISTRY"].rstrip("/")
    callers = {f"Bearer {os.environ['FRAME_CALLER_TOKEN']}": "bench-consumer"}
    forwarded = [(b"authorization", f"Bearer {os.environ['FRAME_REGISTRY_TOKEN']}".encode())]
    pool: asyncpg.Pool | None = None
    upstreams = HttpUpstreams()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=4, max_size=10)
        await pool.execute(AUDIT_TABLE)
        yield
        await upstreams.aclose()
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/population/v1/persons/{id_number}")
    async def read(id_number: str, request: Request) -> Response:
        assert pool is not None
        client = callers.get(request.headers.get("authorization", ""))
        if client is None:
            raise HTTPException(401)
        upstream = await upstreams.send(
            "GET", f"{registry}/v1/persons/{id_number}", forwarded, b"", service="population", timeout=10
        )
        record = json.loads(upstream.body)
        masked = {name: record[name] for name in FIELDS if name in record}
        await pool.execute(
            "INSERT INTO frame_audit (client_id, path, status, record_keys, fields) VALUES ($1, $2, $3, $4, $5)",
            client,
            request.url.path,
            upstream.status,
            [id_number],
            list(masked),
        )
        body = json.dumps(masked, ensure_ascii=False, separators=(",", ":")).encode()
        return Response(body, status_code=upstream.status, media_type="application/json")

    return app
