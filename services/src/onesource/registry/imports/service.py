"""An import job: a streamed file whose rows are each checked by the registry's rules and registered, in one go.

One import is one transaction: the registered records, their versions and ``registered`` events (through
``records.register``, exactly as an API registration writes them) and the error report commit together, or — when
the upload breaks off, a check cannot decide, or the database fails — nothing does. A refused row never stops the
others and is reported with its line, the field at fault and why. Progress is committed on the side while it runs.

A registry declares its job once (:class:`ImportJob`) and mounts :func:`onesource.registry.imports.router.router`.
The rows of a block are checked concurrently (a check may ask another service, such as the gateway) and
registered together (``loading.register_block``: the same rows, versions and events as ``records.register`` writes,
by ``COPY`` and a few statements per block, the events deferred to the relay).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic

import uuid_utils
from fastapi import Request
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onesource.kit.auth import Principal
from onesource.kit.errors import NotFound, ServiceError
from onesource.kit.pagination import InvalidCursor, Slice, cut, decode_cursor
from onesource.kit.telemetry import request_id_var
from onesource.registry.imports import loading, parsing, repository
from onesource.registry.imports.schemas import ImportReport, RecordImport, RowError
from onesource.registry.records import RecordKind, Row
from onesource.registry.rules import FieldProblem

logger = logging.getLogger(__name__)

ROWS = Counter("onesource_registry_import_rows_total", "Rows read by registry bulk imports", ["service", "outcome"])
#: Refused rows listed in the import's answer; the rest are at ``/v1/imports/{id}/errors``.
REPORTED_ERRORS = 100

RowCheck = Callable[[Mapping[str, Any]], Awaitable[dict[str, Any] | list[FieldProblem]]]
"""Checks one row by the registry's rules, from its values as the file gave them (CSV cells as text, absent when
empty; NDJSON's JSON values): the typed values to register, or the problems that refuse it. It may ask another
service (never through the import's database session) and raise a ``ServiceError`` when it cannot decide — the
import then fails as a whole rather than guess."""


class InvalidImportFile(ServiceError):
    """The file as a whole cannot be read (header, encoding); nothing was imported (422)."""

    status = 422
    type = "invalid-import-file"
    title = "Invalid import file"


class ImportNotFound(NotFound):
    """No import of the caller's department has this id (404)."""

    type = "import-not-found"
    title = "Import not found"


@dataclass(frozen=True)
class ImportJob(Generic[Row]):
    """A registry's bulk import, declared once."""

    kind: RecordKind[Row]
    """The records it registers."""
    imports: type[Any]
    """The import table (:class:`~onesource.registry.imports.models.RecordImportColumns`)."""
    errors: type[Any]
    """The refused-rows table (:class:`~onesource.registry.imports.models.RecordImportErrorColumns`)."""
    columns: Sequence[str]
    """The columns a CSV file may have (its header's names); NDJSON keys are the row check's business."""
    check: Callable[[Request], RowCheck]
    """Makes the row check of one import, from the request that sent it (so it may use the app's clients)."""
    records_name: str
    """What it registers, in the plural (``entities``): names the endpoints (``import_entities`` …)."""
    concurrency: int = 16
    """Rows of a block checked at once."""


@dataclass
class _Counts:
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    refusals: int = 0
    first_errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class _Refusal:
    line: int
    key: str | None
    field: str | None
    reason: str


class _Loader(Generic[Row]):
    """Checks and registers the rows of one import, block after block, inside its transaction."""

    def __init__(
        self, job: ImportJob[Row], session: AsyncSession, import_id: uuid.UUID, check: RowCheck, by: Principal
    ) -> None:
        self.job = job
        self.session = session
        self.import_id = import_id
        self.check = check
        self.by = by
        self.counts = _Counts()
        self._seen: dict[str, int] = {}

    async def _checked(self, rows: Sequence[parsing.RawRow]) -> list[dict[str, Any] | list[FieldProblem] | None]:
        """Each row's check, in order (``None`` for an unreadable row); up to ``concurrency`` checks run at once.

        A few workers take the rows in turn rather than a task per row: most checks finish without waiting (a
        person already asked about), and a task per row cost an import more than its checks.
        """
        results: list[dict[str, Any] | list[FieldProblem] | None] = [None] * len(rows)
        pending = iter(range(len(rows)))

        async def worker() -> None:
            for index in pending:
                values = rows[index].values
                if values is not None:
                    results[index] = await self.check(values)

        try:
            async with asyncio.TaskGroup() as group:  # the first check that cannot decide stops the others
                for _ in range(min(self.job.concurrency, len(rows))):
                    group.create_task(worker())
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return results

    async def load(self, rows: Sequence[parsing.RawRow]) -> None:
        """Check the rows of one block and register the good ones, in file order."""
        refusals: list[_Refusal] = []
        checked = await self._checked(rows)
        accepted = await self._register(rows, checked, refusals)
        self.session.add_all(
            self.job.errors(
                import_id=self.import_id, line=refusal.line, key=refusal.key, field=refusal.field, reason=refusal.reason
            )
            for refusal in refusals
        )
        await self.session.flush()
        self._count(len(rows), accepted, refusals)

    async def _register(
        self,
        rows: Sequence[parsing.RawRow],
        checked: Sequence[dict[str, Any] | list[FieldProblem] | None],
        refusals: list[_Refusal],
    ) -> int:
        """Register the good rows in file order, adding the refused ones to ``refusals``; how many it registered."""
        kind = self.job.kind
        good: list[dict[str, Any]] = []
        lines: dict[str, int] = {}
        for row, outcome in zip(rows, checked, strict=True):
            raw_key = None if row.values is None else row.values.get(kind.key)
            key = None if raw_key is None else str(raw_key)[:64]
            if outcome is None:
                refusals.append(_Refusal(row.line, None, None, row.unreadable or "unreadable row"))
                continue
            if isinstance(outcome, list):
                refusals.extend(_Refusal(row.line, key, problem.field or None, problem.reason) for problem in outcome)
                continue
            record_key = str(outcome[kind.key])
            earlier = self._seen.get(record_key)
            if earlier is not None:
                refusals.append(_Refusal(row.line, record_key, kind.key, f"duplicate of line {earlier}"))
                continue
            self._seen[record_key] = lines[record_key] = row.line
            good.append(outcome)
        registered, taken = await loading.register_block(self.session, kind, good, self.by, self.import_id)
        refusals.extend(_Refusal(lines[key], key, kind.key, kind.duplicate(key).detail) for key in taken)
        refusals.sort(key=lambda refusal: refusal.line)
        return len(registered)

    def _count(self, rows_read: int, accepted: int, refusals: list[_Refusal]) -> None:
        counts = self.counts
        for refusal in refusals[: max(0, REPORTED_ERRORS - len(counts.first_errors))]:
            counts.first_errors.append(
                RowError(line=refusal.line, key=refusal.key, field=refusal.field, reason=refusal.reason)
            )
        refused_rows = len({refusal.line for refusal in refusals})
        counts.rows_read += rows_read
        counts.accepted += accepted
        counts.rejected += refused_rows
        counts.refusals += len(refusals)
        service = self.job.kind.registered.source.rsplit("/", 1)[-1]
        ROWS.labels(service, "accepted").inc(accepted)
        ROWS.labels(service, "rejected").inc(refused_rows)


async def run(
    job: ImportJob[Row],
    sessionmaker: async_sessionmaker[AsyncSession],
    check: RowCheck,
    body: AsyncIterator[bytes],
    file_format: parsing.Format,
    principal: Principal,
    *,
    block_rows: int,
    progress_seconds: float,
) -> ImportReport:
    """Import the records in ``body``; the answer reports accepted and refused rows."""
    import_id = uuid.UUID(str(uuid_utils.uuid7()))
    # The import's own row commits first, so that its progress is visible while it runs and its failure is kept.
    async with sessionmaker() as session, session.begin():
        await repository.create(
            session,
            job.imports,
            import_id,
            file_format,
            principal.client_id,
            principal.department,
            request_id_var.get(),
        )
    logger.info("import %s started by %s (%s)", import_id, principal.client_id, file_format)
    next_progress = time.monotonic() + progress_seconds
    try:
        async with sessionmaker() as session, session.begin():
            loader = _Loader(job, session, import_id, check, principal)
            async for block in parsing.blocks(body, file_format, job.columns, block_lines=block_rows):
                await loader.load(parsing.block_rows(block))
                if time.monotonic() >= next_progress:
                    await _progress(sessionmaker, job, import_id, loader.counts)
                    next_progress = time.monotonic() + progress_seconds
            counts = loader.counts
            finished = await repository.finish(
                session,
                job.imports,
                import_id,
                status="completed",
                rows_read=counts.rows_read,
                accepted=counts.accepted,
                rejected=counts.rejected,
            )
    except parsing.InvalidFile as error:
        await _fail(sessionmaker, job, import_id, str(error))
        raise InvalidImportFile(f"nothing was imported: {error}", import_id=str(import_id)) from None
    except ServiceError as error:
        await _fail(sessionmaker, job, import_id, f"nothing was imported: {error.detail}")
        error.extensions.setdefault("import_id", str(import_id))
        raise
    except BaseException as error:
        await _fail(sessionmaker, job, import_id, f"the import stopped ({type(error).__name__}); nothing was imported")
        raise
    logger.info(
        "import %s completed: %d rows, %d accepted, %d refused",
        import_id,
        counts.rows_read,
        counts.accepted,
        counts.rejected,
    )
    return ImportReport.model_validate(
        {
            **RecordImport.model_validate(finished).model_dump(),
            "errors": counts.first_errors,
            "errors_truncated": counts.refusals > len(counts.first_errors),
        }
    )


async def _progress(
    sessionmaker: async_sessionmaker[AsyncSession], job: ImportJob[Any], import_id: uuid.UUID, counts: _Counts
) -> None:
    async with sessionmaker() as side, side.begin():
        await repository.record_progress(
            side, job.imports, import_id, rows_read=counts.rows_read, accepted=counts.accepted, rejected=counts.rejected
        )


async def _fail(
    sessionmaker: async_sessionmaker[AsyncSession], job: ImportJob[Any], import_id: uuid.UUID, reason: str
) -> None:
    logger.warning("import %s failed: %s", import_id, reason)
    try:
        async with sessionmaker() as session, session.begin():
            await repository.finish(
                session, job.imports, import_id, status="failed", rows_read=0, accepted=0, rejected=0, failure=reason
            )
    except Exception:  # the import already failed; keep its first error, not this one
        logger.exception("could not record the failure of import %s", import_id)


async def get(session: AsyncSession, job: ImportJob[Any], import_id: uuid.UUID, department: str) -> Any:
    """An import of ``department``; 404 for anyone else's."""
    found = await repository.get(session, job.imports, import_id)
    if found is None or found.department != department:
        raise ImportNotFound(f"no import {import_id} of department {department!r}")
    return found


def _invalid_cursor() -> InvalidCursor:
    return InvalidCursor("the cursor is not valid; pass the next_cursor of a previous page")


async def page(
    session: AsyncSession, job: ImportJob[Any], department: str, *, limit: int, cursor: str | None
) -> Slice[Any]:
    """The department's imports, newest first."""
    before = decode_cursor(cursor)
    try:
        before_id = uuid.UUID(before) if before is not None else None
    except ValueError:
        raise _invalid_cursor() from None
    rows = await repository.page(session, job.imports, department, before=before_id, limit=limit + 1)
    return cut(rows, limit, lambda row: str(row.id))


async def errors(
    session: AsyncSession, job: ImportJob[Any], import_id: uuid.UUID, department: str, *, limit: int, cursor: str | None
) -> Slice[RowError]:
    """Refused rows of an import of ``department``, in file order."""
    await get(session, job, import_id, department)
    after = decode_cursor(cursor)
    position: tuple[int, int] | None = None
    if after is not None:
        parts = after.split(":")
        if len(parts) != 2 or not all(part.isdigit() for part in parts):
            raise _invalid_cursor()
        position = (int(parts[0]), int(parts[1]))
    rows = await repository.errors(session, job.errors, import_id, after=position, limit=limit + 1)
    found = cut(rows, limit, lambda row: f"{row.line}:{row.id}")
    return Slice(items=[RowError.model_validate(row) for row in found.items], next_cursor=found.next_cursor)
