"""Every SQL statement of bulk imports, on the registry's own import tables (see :mod:`.models`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession


async def create(
    session: AsyncSession,
    imports: type[Any],
    import_id: uuid.UUID,
    file_format: str,
    client_id: str,
    department: str,
    request_id: str | None,
) -> None:
    """Record a new running import."""
    session.add(
        imports(
            id=import_id,
            format=file_format,
            status="running",
            client_id=client_id,
            department=department,
            request_id=request_id,
        )
    )
    await session.flush()


async def transaction_time(session: AsyncSession) -> datetime:
    """The session's transaction time (what its rows' ``now()`` defaults hold)."""
    found: datetime = (await session.execute(select(func.now()))).scalar_one()
    return found


async def record_progress(
    session: AsyncSession, imports: type[Any], import_id: uuid.UUID, *, rows_read: int, accepted: int, rejected: int
) -> None:
    """Set a running import's counters."""
    await session.execute(
        update(imports)
        .where(imports.id == import_id, imports.status == "running")
        .values(rows_read=rows_read, accepted=accepted, rejected=rejected)
    )


async def finish(
    session: AsyncSession,
    imports: type[Any],
    import_id: uuid.UUID,
    *,
    status: str,
    rows_read: int,
    accepted: int,
    rejected: int,
    failure: str | None = None,
) -> Any:
    """End an import as ``completed`` or ``failed``; the import row as it now stands."""
    result = await session.execute(
        update(imports)
        .where(imports.id == import_id)
        .values(
            status=status,
            rows_read=rows_read,
            accepted=accepted,
            rejected=rejected,
            failure=failure,
            finished_at=func.clock_timestamp(),  # an import is one long transaction: its end, not its start
        )
        .returning(imports)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one()


async def get(session: AsyncSession, imports: type[Any], import_id: uuid.UUID) -> Any | None:
    """The import ``import_id``, if there is one."""
    return await session.get(imports, import_id, populate_existing=True)


async def page(
    session: AsyncSession, imports: type[Any], department: str, *, before: uuid.UUID | None, limit: int
) -> Sequence[Any]:
    """The department's imports, newest first (ids are time-ordered UUIDv7)."""
    statement = select(imports).where(imports.department == department).order_by(imports.id.desc()).limit(limit)
    if before is not None:
        statement = statement.where(imports.id < before)
    return (await session.scalars(statement)).all()


async def errors(
    session: AsyncSession, errors_table: type[Any], import_id: uuid.UUID, *, after: tuple[int, int] | None, limit: int
) -> Sequence[Any]:
    """Refused rows of an import in file order, after the position ``(line, error id)`` ``after``."""
    statement = (
        select(errors_table)
        .where(errors_table.import_id == import_id)
        .order_by(errors_table.line, errors_table.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(
            tuple_(errors_table.line, errors_table.id) > tuple_(literal(after[0]), literal(after[1]))
        )
    return (await session.scalars(statement)).all()
