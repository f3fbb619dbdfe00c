"""Bulk import of persons: stream, validate every row by the registry's rules, load the good rows with ``COPY``.

One import is one transaction: the good rows, their ``person.registered`` events and the error report commit
together, or — when the upload breaks off or the database fails — nothing does. A refused row never stops the
others, and no row is ever half written. Progress is committed on the side while it runs.

The request's process only cuts the file into blocks and loads them; worker processes (``checking``) read and check
the blocks, several at a time, while the database loads the blocks before them, one after another in file order
(the registry core's ``check_ahead``).
Per person the import writes one row, the person, which names its import and so is also its first version until it
changes (see ``models.Person.import_id``); its ``person.registered`` event is deferred, a few outbox rows per block
naming the block's persons, and written when the relay publishes it (``imports.events``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
import uuid_utils
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onesource.kit.auth import Principal
from onesource.kit.errors import ServiceUnavailable
from onesource.kit.pagination import InvalidCursor, Slice, cut, decode_cursor
from onesource.kit.telemetry import request_id_var
from onesource.population.imports import events, repository
from onesource.population.imports.checking import Checked, CheckerPool, Job, check
from onesource.population.imports.errors import ImportNotFound, InvalidImportFile
from onesource.population.imports.schemas import IMPORT_COLUMNS, ImportReport, PersonImport, RowError
from onesource.population.models import PersonImport as PersonImportRow
from onesource.population.models import PersonImportError
from onesource.population.persons import repository as persons_repository
from onesource.registry.imports import parsing
from onesource.registry.imports import repository as imports
from onesource.registry.imports.checking import check_ahead

logger = logging.getLogger(__name__)

ROWS = Counter("onesource_population_import_rows_total", "Rows read by bulk imports", ["outcome"])
#: Refused rows listed in the import's answer; the rest are at ``/v1/imports/{id}/errors``.
REPORTED_ERRORS = 100
#: Attempts at loading one block when concurrent registrations keep taking its ID numbers.
_LOAD_ATTEMPTS = 5


@dataclass
class _Counts:
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    first_errors: list[RowError] = field(default_factory=list)


class _Loader:
    """Has the blocks of one import checked by the workers and loads them, in order, inside its transaction."""

    def __init__(self, session: AsyncSession, import_id: uuid.UUID, at: datetime, checkers: CheckerPool) -> None:
        self.session = session
        self.import_id = import_id
        self.at = at
        """The import's transaction time: its events' time, and the day its rules judge dates by."""
        self.checkers = checkers
        self.counts = _Counts()

    async def _drop_registered(self, checked: Checked) -> None:
        registered = await repository.first_registrations(self.session, checked.id_numbers)
        for id_number, line in checked.drop(set(registered)):
            reason = (
                "duplicate of an earlier row of this file"
                if registered[id_number] == self.import_id
                else "a person with this ID number is already registered"
            )
            checked.refuse(line, id_number, "id_number", reason)

    async def write(self, checked: Checked) -> None:
        """Load the good rows of ``checked`` and record its refused ones."""
        for attempt in range(_LOAD_ATTEMPTS):
            if attempt:  # only after a conflict: looking first would cost every block a query
                await self._drop_registered(checked)
            if not checked.persons:
                break
            savepoint = await self.session.begin_nested()
            try:
                await repository.copy_persons(self.session, checked.persons)
            except asyncpg.UniqueViolationError:
                # An ID number is registered already, by an earlier block or someone else: look, and retry.
                await savepoint.rollback()
                if attempt == _LOAD_ATTEMPTS - 1:
                    raise
                continue
            await savepoint.commit()
            await events.defer_registrations(self.session, self.import_id, self.at, checked.id_numbers)
            break
        await repository.copy_errors(self.session, [(self.import_id, *error) for error in checked.errors])
        self._count(checked)

    def _count(self, checked: Checked) -> None:
        counts = self.counts
        for line, number, field_name, reason in checked.errors:
            if len(counts.first_errors) >= REPORTED_ERRORS:
                break
            counts.first_errors.append(RowError(line=line, id_number=number, field=field_name, reason=reason))
        refused_rows = len({error[0] for error in checked.errors})
        counts.rows_read += checked.rows_read
        counts.accepted += len(checked.persons)
        counts.rejected += refused_rows
        ROWS.labels("accepted").inc(len(checked.persons))
        ROWS.labels("rejected").inc(refused_rows)

    async def load(self, blocks: AsyncIterator[parsing.Block], *, loaded: Callable[[_Counts], Awaitable[None]]) -> None:
        """Have every block of ``blocks`` checked by the workers and load it, in file order.

        The next blocks are read and checked meanwhile (as many as there are workers, and one more waits). A row
        repeating an ID number of its own block is refused as a duplicate of that line, one repeating an earlier
        block's as an earlier row.
        """
        import_id = str(self.import_id)

        def checking(block: parsing.Block) -> Awaitable[Checked]:
            return self.checkers.submit(check, Job(block, import_id, self.at))

        async def writing(checked: Checked) -> None:
            await self.write(checked)
            await loaded(self.counts)

        await check_ahead(blocks, checking, writing, ahead=self.checkers.workers + 2)


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
    checkers: CheckerPool,
    body: AsyncIterator[bytes],
    file_format: parsing.Format,
    principal: Principal,
    *,
    batch_rows: int,
    progress_seconds: float,
) -> ImportReport:
    """Import the persons in ``body``; the answer reports accepted and refused rows."""
    import_id = uuid.UUID(str(uuid_utils.uuid7()))
    # The import's own row commits first, so that its progress is visible while it runs and its failure is kept.
    async with sessionmaker() as session, session.begin():
        await imports.create(
            session,
            PersonImportRow,
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
            await _progress(sessionmaker, import_id, counts)
            next_progress = time.monotonic() + progress_seconds

    try:
        async with sessionmaker() as session, session.begin():
            loader = _Loader(session, import_id, await _transaction_time(session), checkers)
            blocks = parsing.blocks(body, file_format, IMPORT_COLUMNS, block_lines=batch_rows)
            await loader.load(blocks, loaded=loaded)
            counts = loader.counts
            finished = await imports.finish(
                session,
                PersonImportRow,
                import_id,
                status="completed",
                rows_read=counts.rows_read,
                accepted=counts.accepted,
                rejected=counts.rejected,
            )
    except parsing.InvalidFile as error:
        await _fail(sessionmaker, import_id, str(error))
        raise InvalidImportFile(f"nothing was imported: {error}", import_id=str(import_id)) from None
    except BrokenProcessPool:
        reason = "a worker checking the file stopped; nothing was imported"
        await _fail(sessionmaker, import_id, reason)
        raise ServiceUnavailable(f"{reason}: send the file again", import_id=str(import_id)) from None
    except BaseException as error:
        await _fail(sessionmaker, import_id, f"the import stopped ({type(error).__name__}); nothing was imported")
        raise
    logger.info(
        "import %s completed: %d rows, %d accepted, %d refused",
        import_id,
        counts.rows_read,
        counts.accepted,
        counts.rejected,
    )
    return _report(finished, counts.first_errors, truncated=counts.rejected > len(counts.first_errors))


async def _transaction_time(session: AsyncSession) -> datetime:
    value: datetime = await persons_repository.now(session)
    return value


async def _progress(sessionmaker: async_sessionmaker[AsyncSession], import_id: uuid.UUID, counts: _Counts) -> None:
    async with sessionmaker() as side, side.begin():
        await imports.record_progress(
            side,
            PersonImportRow,
            import_id,
            rows_read=counts.rows_read,
            accepted=counts.accepted,
            rejected=counts.rejected,
        )


async def _fail(sessionmaker: async_sessionmaker[AsyncSession], import_id: uuid.UUID, reason: str) -> None:
    logger.warning("import %s failed: %s", import_id, reason)
    try:
        async with sessionmaker() as session, session.begin():
            await imports.finish(
                session,
                PersonImportRow,
                import_id,
                status="failed",
                rows_read=0,
                accepted=0,
                rejected=0,
                failure=reason,
            )
    except Exception:  # the import already failed; keep its first error, not this one
        logger.exception("could not record the failure of import %s", import_id)


def _report(row: PersonImportRow, errors: list[RowError], *, truncated: bool) -> ImportReport:
    return ImportReport.model_validate(
        {**PersonImport.model_validate(row).model_dump(), "errors": errors, "errors_truncated": truncated}
    )


async def get(session: AsyncSession, import_id: uuid.UUID, department: str) -> PersonImportRow:
    """An import of ``department``; 404 for anyone else's."""
    found: PersonImportRow | None = await imports.get(session, PersonImportRow, import_id)
    if found is None or found.department != department:
        raise ImportNotFound(f"no import {import_id} of department {department!r}")
    return found


async def page(session: AsyncSession, department: str, *, limit: int, cursor: str | None) -> Slice[PersonImportRow]:
    """The department's imports, newest first."""
    before = decode_cursor(cursor)
    try:
        before_id = uuid.UUID(before) if before is not None else None
    except ValueError:
        raise InvalidCursor("the cursor is not valid; pass the next_cursor of a previous page") from None
    rows = await imports.page(session, PersonImportRow, department, before=before_id, limit=limit + 1)
    return cut(rows, limit, lambda row: str(row.id))


async def errors(
    session: AsyncSession, import_id: uuid.UUID, department: str, *, limit: int, cursor: str | None
) -> Slice[RowError]:
    """Refused rows of an import, in file order."""
    await get(session, import_id, department)
    after = decode_cursor(cursor)
    try:
        position = tuple(int(part) for part in after.split(":")) if after is not None else None
    except ValueError:
        raise InvalidCursor("the cursor is not valid; pass the next_cursor of a previous page") from None
    if position is not None and len(position) != 2:
        raise InvalidCursor("the cursor is not valid; pass the next_cursor of a previous page")
    pair = (position[0], position[1]) if position is not None else None
    rows = await imports.errors(session, PersonImportError, import_id, after=pair, limit=limit + 1)
    found = cut(rows, limit, lambda row: f"{row.line}:{row.id}")
    return Slice(items=[RowError.model_validate(row) for row in found.items], next_cursor=found.next_cursor)
