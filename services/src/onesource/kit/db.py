"""Async SQLAlchemy: engines, the declarative base, and one transaction per request.

The request's transaction is committed by a ``scope="function"`` dependency, i.e. *before* the response
is sent: a failed commit becomes an error response, never a 200 for a change that did not happen.
"""

from __future__ import annotations

import functools
import io
import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, TypeAlias

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# Constraint names that Alembic can reproduce and that read well in errors.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """Return a ``MetaData`` with the project's constraint naming convention."""
    return MetaData(naming_convention=NAMING_CONVENTION)


#: Every service's ``DeclarativeBase`` uses this: ``datetime`` columns are timezone-aware.
TYPE_ANNOTATION_MAP: dict[Any, Any] = {datetime: DateTime(timezone=True)}


#: JSON as PostgreSQL stores it from this process: compact, UTF-8 as it is.
json_text = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def server_settings(application_name: str) -> dict[str, str]:
    """Session settings of every connection: its name, and floats written as text exactly.

    A positive ``extra_float_digits`` makes PostgreSQL (12 and later) write a float as the shortest text that reads
    back as the same value; the server's configuration may say otherwise (0 rounds to 15 digits). Registries answer
    numbers as the database writes them (macroeconomy's observations).
    """
    return {"application_name": application_name, "extra_float_digits": "1"}


#: A pooled connection idle longer than this is pinged before use: it may have outlived a database restart.
PING_AFTER_IDLE_SECONDS = 2.0


def create_engine(dsn: str, *, pool_size: int = 10, application_name: str = "onesource") -> AsyncEngine:
    """Create the service's async engine (asyncpg).

    JSON values are written compact and as UTF-8 (``ensure_ascii=False``): the outbox keeps its ``json`` payload
    exactly as written and publishes those bytes, so escaped non-ASCII characters would double the size of Chinese text.

    A connection is pinged on checkout only when it sat idle (see :data:`PING_AFTER_IDLE_SECONDS`): SQLAlchemy's
    ``pool_pre_ping`` would add a round trip to every request, though a connection in steady use has just proved
    itself; a disconnect found in use still invalidates the pool as usual.
    """
    engine = create_async_engine(
        dsn,
        json_serializer=json_text,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"server_settings": server_settings(application_name)},
    )
    event.listen(engine.sync_engine, "checkin", _note_checkin)
    event.listen(engine.sync_engine, "engine_connect", _ping_if_idle)
    return engine


def _note_checkin(dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(connection: Any) -> None:
    record = getattr(connection.connection, "_connection_record", None)
    if record is None or time.monotonic() - record.info.get("checked_in", 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        alive = connection.dialect.do_ping(connection.connection.dbapi_connection)
    except Exception:  # a dead connection may fail the ping rather than answer it
        alive = False
    if not alive:
        connection.invalidate()  # the connection's first statement then connects anew


def sessionmaker_for(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (responses are built after the commit)."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with factory() as session, session.begin():
        yield session
        # leaving session.begin() commits here, before the response is sent (scope="function")


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
"""The request's session, inside its one transaction, committed before the response is sent."""


async def create_read_pool(dsn: str, *, size: int, application_name: str = "onesource") -> asyncpg.Pool:
    """A plain asyncpg pool for reads that need no transaction (``ReadDep``): one statement, one round trip.

    Beside the engine's pool, for the hottest path of a registry — a record by key — where SQLAlchemy's checkout,
    execution and result machinery cost more than the query. JSON columns decode as they do through the engine.
    """

    async def init(connection: asyncpg.Connection) -> None:
        for type_name in ("json", "jsonb"):
            await connection.set_type_codec(
                type_name, encoder=json_text, decoder=json.loads, schema="pg_catalog", format="text"
            )

    async def keep(connection: asyncpg.Connection) -> None:
        """Nothing to reset: a read connection never sets session state (asyncpg's default reset is a round trip)."""

    return await asyncpg.create_pool(
        dsn.replace("postgresql+asyncpg://", "postgresql://", 1),
        min_size=1,
        max_size=size,
        init=init,
        reset=keep,
        server_settings=server_settings(application_name),
    )


def reading(pool: asyncpg.Pool) -> AbstractAsyncContextManager[asyncpg.Connection]:
    """A connection of the read pool, for the length of a read."""

    @asynccontextmanager
    async def connected() -> AsyncIterator[asyncpg.Connection]:
        async with pool.acquire() as connection:
            yield connection

    return connected()


#: What a read that writes nothing runs its statements on: the read pool, whose ``fetch``, ``fetchrow`` and
#: ``fetchval`` each take a connection for that one statement (no transaction, as on a connection of it), or, in
#: tests, the test's rolled-back connection.
Reader: TypeAlias = asyncpg.Pool | asyncpg.Connection


async def _reader(request: Request) -> Reader:
    # A plain dependency, not a generator holding a connection: FastAPI runs a generator through an exit stack and
    # a shielded cancel scope, which cost a read by key more CPU than its query. Tests replace ``app.state.reader``
    # with their own rolled-back connection (``testing.plugin.rolled_back``).
    reader: Reader = request.app.state.reader
    return reader


ReadDep = Annotated[Reader, Depends(_reader)]
"""Where the request's reads run when it writes nothing (by key, a page): no session, no transaction."""


async def _write_connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    async with request.app.state.reading() as connection, connection.transaction():
        yield connection
        # leaving the transaction commits here, before the response is sent (scope="function")


WriteDep = Annotated[asyncpg.Connection, Depends(_write_connection, scope="function")]
"""A plain connection in the request's one transaction, committed before the response is sent: for the hottest
writes of a registry (a record's change), where the ORM's unit of work costs more than the few statements."""


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The session's asyncpg connection, inside its transaction (for ``COPY`` and plain SQL).

    SQLAlchemy's asyncpg adapter opens the transaction on the connection with its own first statement: until then,
    plain statements on the driver would each commit alone (a registration's row without its event, had the
    process died between them). The adapter's transaction is begun here when it has not been yet (its own start,
    the ``BEGIN`` alone; an adapter without it runs a statement to the same end).
    """
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapter = raw.dbapi_connection
    if not getattr(adapter, "_started", False):  # the adapter's flag
        start = getattr(adapter, "_start_transaction", None)
        if start is not None:
            await start()
        else:
            await connection.exec_driver_sql("SELECT 1")
    driver: asyncpg.Connection = raw.driver_connection
    return driver


#: How ``COPY ... (FORMAT text)`` writes the characters it reads specially inside a field.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
#: A NULL field in ``COPY ... (FORMAT text)`` data.
COPY_NULL = "\\N"


def copy_text(value: str) -> str:
    """``value`` as one field of ``COPY ... (FORMAT text)`` data: tab-separated fields, one row per line."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


async def copy_text_rows(session: AsyncSession, table: str, columns: Sequence[str], rows: Sequence[str]) -> None:
    """``COPY`` rows of text-format data (see :func:`copy_text`) into ``table``, in the session's transaction.

    Text rows built by the caller cost one string each; asyncpg's binary ``copy_records_to_table`` encodes every
    value of every record in this process instead (bulk imports build their rows in worker processes).
    """
    if rows:
        driver = await driver_connection(session)
        await driver.copy_to_table(table, source=io.BytesIO("".join(rows).encode()), columns=columns, format="text")
