"""The physical frame: the smallest FastAPI + asyncpg app doing a registry's read and write, for ``frame.py``.

No auth, no ORM, no middleware, no history beyond what the write must keep: it answers a person row as JSON by key,
and changes one with the same SQL a registry runs for an ``If-Match`` update (lock the row, compare the version,
update it, add the version row and the outbox row, in one transaction). ``uvicorn --factory
tests.bench.frame_app:create_app`` with ``FRAME_DSN`` set.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from onesource.kit.events import new_event_id
from onesource.kit.outbox import shard_of


def create_app() -> FastAPI:
    dsn = os.environ["FRAME_DSN"]
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/v1/persons/{id_number}")
    async def read(id_number: str) -> Any:
        assert pool is not None
        row = await pool.fetchrow("SELECT * FROM person WHERE id_number = $1", id_number)
        if row is None:
            raise HTTPException(404)
        return dict(row)

    @app.patch("/v1/persons/{id_number}")
    async def change(id_number: str, request: Request, if_match: str = Header()) -> Any:
        assert pool is not None
        changes = await request.json()
        expected = int(if_match.strip('"'))
        async with pool.acquire() as connection, connection.transaction():
            version = await connection.fetchval("SELECT version FROM person WHERE id_number = $1 FOR UPDATE", id_number)
            if version is None:
                raise HTTPException(404)
            if version != expected:
                raise HTTPException(412)
            row = await connection.fetchrow(
                "UPDATE person SET household_address = $2, version = version + 1, updated_at = now() "
                "WHERE id_number = $1 RETURNING *",
                id_number,
                changes["household_address"],
            )
            assert row is not None
            record = {key: value for key, value in dict(row).items() if key not in ("created_at", "updated_at")}
            await connection.execute(
                "INSERT INTO person_version (id_number, version, change, changes, recorded_by, department) "
                "VALUES ($1, $2, 'updated', $3::jsonb, 'frame', 'psb')",
                id_number,
                row["version"],
                json.dumps(changes),
            )
            await connection.execute(
                "INSERT INTO outbox_event (event_id, topic, key, shard, payload) VALUES ($1, $2, $3, $4, $5::json)",
                new_event_id(),
                "onesource.population.person.v1",
                id_number,
                shard_of(id_number),
                json.dumps({"record": record, "changes": changes}, default=str),
            )
        return JSONResponse(json.loads(json.dumps(dict(row), default=str)), headers={"ETag": f'"{row["version"]}"'})

    return app
