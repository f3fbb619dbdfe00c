"""An import job: a streamed file whose rows are each checked by the registry's rules and registered, in one go.

One import is one transaction: the registered records, their versions and ``registered`` events (the same as
``records.register`` writes for an API registration) and the error report commit together, or — when the upload
breaks off, a check cannot decide, or the database fails — nothing does. A refused row never stops the others and
is reported with its line, the field at fault and why. Progress is committed on the side while it runs.

A registry declares its job once (:class:`ImportJob`), lists ``checking.import_checkers(<its rules' module>)`` in
its extensions and mounts :func:`onesource.registry.imports.router.router`. The request's process only cuts the file
into blocks; worker processes check them by the registry's rules (``checking``), several at a time, while the
request's process asks what another service must confirm (:class:`Confirmation`, once per value) and registers the
blocks checked before, in file order (``loading.register_block``: ``COPY`` of the records and their first versions,
or of records that are their own first version until they change; their events deferred to the relay, a few
blocks' at once).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic

import uuid_utils
from fastapi import Request
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onesource.kit.auth import Principal
from onesource.kit.errors import NotFound, ServiceError, ServiceUnavailable
from onesource.kit.pagination import InvalidCursor, Slice, cut, decode_cursor
from onesource.kit.telemetry import request_id_var
from onesource.registry.imports import checking, loading, parsing, repository
from onesource.registry.imports.checking import RowRules
from onesource.registry.imports.schemas import ImportReport, RecordImport, RowError
from onesource.registry.records import RecordKind, Row
from onesource.registry.rules import FieldProblem

logger = logging.getLogger(__name__)

ROWS = Counter("onesource_registry_import_rows_total", "Rows read by registry bulk imports", ["service", "outcome"])
#: Refused rows listed in the import's answer; the rest are at ``/v1/imports/{id}/errors``.
REPORTED_ERRORS = 100

ValueCheck = Callable[[Any], Awaitable[list[FieldProblem]]]
"""Checks one value of a field by asking another service (never through the import's database session): the
problems that refuse the rows holding it (none: it is good). It raises a ``ServiceError`` when it cannot decide — the
import then fails as a whole rather than guess."""


@dataclass(frozen=True)
class Confirmation:
    """What the rules cannot tell from a row alone: another service's answer about one field's value.

    Asked from the request's process, for the rows the rules accept, once per distinct value per import (many rows
    name the same person), a few values at once.
    """

    field: str
    """The field whose value is asked about."""
    check: Callable[[Request], ValueCheck]
    """Makes the check of one import, from the request that sent it (so it may use the app's clients)."""
    concurrency: int = 16
    """Values asked about at once."""


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
    """The columns a CSV file may have (its header's names); NDJSON keys are the rules' business."""
    rules: RowRules
    """Checks one row by the registry's rules, in a worker process (a module-level function)."""
    records_name: str
    """What it registers, in the plural (``entities``): names the endpoints (``import_entities`` …)."""
    confirmation: Confirmation | None = None
    """What another service must confirm of the rows the rules accept, if anything."""

    def __post_init__(self) -> None:
        table = self.kind.table.__table__  # type: ignore[attr-defined]
        if loading.keeps_first_version_in_row(self.kind) and "import_id" not in table.c:
            raise TypeError(f"{table.name} keeps imported first versions in its rows but has no import_id column")


@dataclass
class _Counts:
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    refusals: int = 0
    first_errors: list[RowError] = field(default_factory=list)


Refusal = tuple[int, str | None, str | None, str]
"""A refused row, or one of its problems: (line, key, field, reason)."""


class _Loader(Generic[Row]):
    """Has the blocks of one import checked by the workers, and registers them in file order, in its transaction."""

    def __init__(
        self,
        job: ImportJob[Row],
        session: AsyncSession,
        import_id: uuid.UUID,
        checkers: checking.CheckerPool,
        confirm: ValueCheck | None,
        by: Principal,
        today: date,
        at: datetime,
    ) -> None:
        self.job = job
        self.session = session
        self.import_id = import_id
        self.checkers = checkers
        self.confirm = confirm
        self.by = by
        self.today = today
        self.at = at
        """The import's transaction time: its records' and their versions' and events' time."""
        self.counts = _Counts()
        self._seen: dict[str, int] = {}
        self._undeferred: list[str] = []
        """Keys registered whose events are not yet deferred."""
        self._answers: dict[Any, asyncio.Future[list[FieldProblem]]] = {}
        concurrency = job.confirmation.concurrency if job.confirmation is not None else 1
        self._asking = asyncio.Semaphore(concurrency)
        self._column_types = checking.column_types(job.kind.table.__table__)  # type: ignore[attr-defined]

    async def load(self, blocks: AsyncIterator[parsing.Block], *, loaded: Callable[[_Counts], Awaitable[None]]) -> None:
        """Check every block of ``blocks`` (workers, then the confirmation) and register it, in file order."""

        async def confirmed(block: parsing.Block) -> tuple[checking.CheckedBlock, list[Refusal]]:
            checked = await self.checkers.submit(checking.check_block, self._block_check(block))
            return checked, await self._confirm(checked)

        async def registering(outcome: tuple[checking.CheckedBlock, list[Refusal]]) -> None:
            await self._register(*outcome)
            await loaded(self.counts)

        await checking.check_ahead(blocks, confirmed, registering, ahead=self.checkers.workers + 2)
        await self._defer()

    async def _defer(self) -> None:
        await loading.defer_registrations(self.session, self.job.kind, self._undeferred, self.import_id, self.at)
        self._undeferred = []

    def _block_check(self, block: parsing.Block) -> checking.BlockCheck:
        confirmation = self.job.confirmation
        return checking.BlockCheck(
            block=block,
            rules=self.job.rules,
            today=self.today,
            key=self.job.kind.key,
            column_types=self._column_types,
            record_fields=tuple(self.job.kind.record_fields),
            recorded_by=(self.by.client_id, self.by.department, request_id_var.get()),
            confirm_field=None if confirmation is None else confirmation.field,
            import_id=str(self.import_id) if loading.keeps_first_version_in_row(self.job.kind) else None,
        )

    async def _confirm(self, checked: checking.CheckedBlock) -> list[Refusal]:
        """The problems of the block's good rows by the confirmation's answers (each value asked once per import).

        Runs as soon as the block is checked, beside the load of the blocks before it; blocks confirmed at the same
        time share their questions.
        """
        if self.confirm is None or not checked.confirming:
            return []
        answers = []
        for value in dict.fromkeys(checked.confirming):
            answer = self._answers.get(value)
            if answer is None:
                answer = self._answers[value] = asyncio.ensure_future(self._ask(self.confirm, value))
            answers.append(answer)
        # ``wait`` leaves the answers running if this block is cancelled: other blocks may be waiting for them too.
        await asyncio.wait(answers)
        for answer in answers:
            answer.result()  # the first value that could not be decided stops the import
        refusals: list[Refusal] = []
        for line, (key, _, _), value in zip(checked.starts, checked.records, checked.confirming, strict=True):
            problems = self._answers[value].result()
            refusals.extend((line, key, problem.field or None, problem.reason) for problem in problems)
        return refusals

    async def _ask(self, confirm: ValueCheck, value: Any) -> list[FieldProblem]:
        async with self._asking:
            return await confirm(value)

    async def _register(self, checked: checking.CheckedBlock, refusals: list[Refusal]) -> None:
        """Register the block's good rows not refused, in file order, and record the refused ones."""
        kind = self.job.kind
        refused = {refusal[0] for refusal in refusals}
        refusals = [*checked.refusals, *refusals]
        good: list[tuple[str, str, str | None]] = []
        started: dict[str, int] = {}
        for line, record in zip(checked.starts, checked.records, strict=True):
            if line in refused:
                continue
            key = record[0]
            earlier = self._seen.get(key)
            if earlier is not None:
                refusals.append((line, key, kind.key, f"duplicate of line {earlier}"))
                continue
            self._seen[key] = started[key] = line
            good.append(record)
        registered, taken = await loading.register_block(self.session, kind, good, checked.columns)
        # Their events are deferred a few blocks at once: an outbox row per shard and block cost a block's load more
        # than its versions did.
        self._undeferred.extend(registered)
        if len(self._undeferred) >= loading.DEFERRED_KEYS:
            await self._defer()
        refusals.extend((started[key], key, kind.key, kind.duplicate(key).detail) for key in taken)
        refusals.sort(key=lambda refusal: refusal[0])
        if refusals:
            self.session.add_all(
                self.job.errors(import_id=self.import_id, line=line, key=key, field=field_name, reason=reason)
                for line, key, field_name, reason in refusals
            )
            await self.session.flush()
        self._count(checked.rows_read, len(registered), refusals)

    def _count(self, rows_read: int, accepted: int, refusals: list[Refusal]) -> None:
        counts = self.counts
        for line, key, field_name, reason in refusals[: max(0, REPORTED_ERRORS - len(counts.first_errors))]:
            counts.first_errors.append(RowError(line=line, key=key, field=field_name, reason=reason))
        refused_rows = len({refusal[0] for refusal in refusals})
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
    checkers: checking.CheckerPool,
    confirm: ValueCheck | None,
    body: AsyncIterator[bytes],
    file_format: parsing.Format,
    principal: Principal,
    *,
    today: date,
    block_rows: int,
    progress_seconds: float,
) -> ImportReport:
    """Import the records in ``body``; the answer reports accepted and refused rows.

    ``checkers`` check the blocks by ``job``'s rules, ``confirm`` asks what the job's confirmation asks, and
    ``today`` is the day the rules judge dates by.
    """
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

    async def loaded(counts: _Counts) -> None:
        nonlocal next_progress
        if time.monotonic() >= next_progress:
            await _progress(sessionmaker, job, import_id, counts)
            next_progress = time.monotonic() + progress_seconds

    try:
        async with sessionmaker() as session, session.begin():
            at = await repository.transaction_time(session)
            loader = _Loader(job, session, import_id, checkers, confirm, principal, today, at)
            blocks = parsing.blocks(body, file_format, job.columns, block_lines=block_rows)
            await loader.load(blocks, loaded=loaded)
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
    except BrokenProcessPool:
        reason = "a worker checking the file stopped; nothing was imported"
        await _fail(sessionmaker, job, import_id, reason)
        raise ServiceUnavailable(f"{reason}: send the file again", import_id=str(import_id)) from None
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
