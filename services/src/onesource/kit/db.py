"""Async SQLAlchemy: engines, the declarative base, and one transaction per request.

The request's transaction is committed by a ``scope="function"`` dependency, i.e. *before* the response
is sent: a failed commit becomes an error response, never a 200 for a change that did not happen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData
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


def create_engine(dsn: str, *, pool_size: int = 10, application_name: str = "onesource") -> AsyncEngine:
    """Create the service's async engine (asyncpg)."""
    return create_async_engine(
        dsn,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": application_name}},
    )


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
