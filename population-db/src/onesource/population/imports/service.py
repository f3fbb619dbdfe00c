"""Bulk import of persons: stream, validate every row by the registry's rules, load the good rows with ``COPY``.

One import is one transaction: the good rows, their first versions, their ``person.registered`` events and the
error report commit together, or — when the upload breaks off or the database fails — nothing does. A refused
row never stops the others, and no row is ever half written. Progress is committed on the side while it runs.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import asyncpg
import uuid_utils
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onesource.kit import outbox
from onesource.kit.auth import Principal
from onesource.kit.events import EnvelopeWriter
from onesource.kit.pagination import InvalidCursor, Slice, cut, decode_cursor
from onesource.kit.telemetry import request_id_var
from onesource.population.imports import parsing, repository
from onesource.population.imports.errors import ImportNotFound, InvalidImportFile
from onesource.population.imports.schemas import IMPORT_COLUMNS, ImportReport, ImportRow, PersonImport, RowError
from onesource.population.models import PersonImport as PersonImportRow
from onesource.population.persons import repository as persons_repository
from onesource.population.persons.events import PERSON_TOPIC, PersonRegistered
from onesource.population.persons.rules import record_problems
from onesource.population.persons.schemas import RECORD_FIELDS

logger = logging.getLogger(__name__)

ROWS = Counter("onesource_population_import_rows_total", "Rows read by bulk imports", ["outcome"])
#: Refused rows listed in the import's answer; the rest are at ``/v1/imports/{id}/errors``.
REPORTED_ERRORS = 100
#: Attempts at loading one batch when concurrent registrations keep taking its ID numbers.
_LOAD_ATTEMPTS = 5


@dataclass
class _Counts:
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    first_errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class _Good:
    line: int
    values: dict[str, Any]


def _json_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


class _Loader:
    """Validates and loads the batches of one import inside its transaction."""

    def __init__(self, session: AsyncSession, import_id: uuid.UUID, principal: Principal, now: datetime) -> None:
        self.session = session
        self.import_id = import_id
        self.principal = principal
        self.now = now
        self.today = now.date()
        self.request_id = request_id_var.get()
        self.counts = _Counts()
        self.envelope = EnvelopeWriter(PersonRegistered, now)

    def _refuse(
        self, errors: list[tuple[Any, ...]], line: int, id_number: Any, field_name: str | None, reason: str
    ) -> None:
        number = str(id_number)[:32] if id_number is not None else None
        errors.append((self.import_id, line, number, field_name, reason))
        if len(self.counts.first_errors) < REPORTED_ERRORS:
            self.counts.first_errors.append(RowError(line=line, id_number=number, field=field_name, reason=reason))

    def _validate(self, batch: list[parsing.RawRow], errors: list[tuple[Any, ...]]) -> dict[str, _Good]:
        good: dict[str, _Good] = {}
        for raw in batch:
            if raw.values is None:
                self._refuse(errors, raw.line, None, None, raw.unreadable or "unreadable row")
                continue
            id_number = raw.values.get("id_number")
            try:
                row = ImportRow.model_validate(raw.values)
            except ValidationError as error:
                for problem in error.errors(include_url=False):
                    location = problem["loc"]
                    self._refuse(errors, raw.line, id_number, str(location[0]) if location else None, problem["msg"])
                continue
            values = dict(row.__dict__)  # the validated fields (model_dump would copy them slower)
            values["deceased"] = values["death_date"] is not None
            broken = record_problems(values, today=self.today)
            if broken:
                for rule in broken:
                    self._refuse(errors, raw.line, row.id_number, rule.field, rule.reason)
                continue
            earlier = good.get(row.id_number)
            if earlier is not None:
                self._refuse(errors, raw.line, row.id_number, "id_number", f"duplicate of line {earlier.line}")
                continue
            good[row.id_number] = _Good(raw.line, values)
        return good

    async def _drop_registered(self, good: dict[str, _Good], errors: list[tuple[Any, ...]]) -> None:
        for id_number, import_id in (await repository.first_registrations(self.session, list(good))).items():
            row = good.pop(id_number)
            reason = (
                "duplicate of an earlier row of this file"
                if import_id == self.import_id
                else "a person with this ID number is already registered"
            )
            self._refuse(errors, row.line, id_number, "id_number", reason)

    def _rows(self, good: dict[str, _Good]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[Any]]:
        persons: list[tuple[Any, ...]] = []
        versions: list[tuple[Any, ...]] = []
        events: list[Any] = []
        principal = self.principal
        for id_number, row in good.items():
            values = row.values
            persons.append(tuple(values[name] for name in repository.PERSON_COLUMNS))
            record = {name: values[name] for name in RECORD_FIELDS}
            record["birth_date"] = _json_date(values["birth_date"])
            record["death_date"] = _json_date(values["death_date"])
            record_json = json.dumps(record)  # once: the first version and the event carry the same record
            versions.append(
                (
                    id_number,
                    1,
                    "registered",
                    record_json,
                    principal.client_id,
                    principal.department,
                    self.request_id,
                    self.import_id,
                )
            )
            event_id, event_json = self.envelope(id_number, f'{{"record":{record_json}}}')
            events.append(outbox.copy_record(PERSON_TOPIC, event_id, id_number, event_json))
        return persons, versions, events

    async def load(self, batch: list[parsing.RawRow]) -> None:
        """Validate one batch and load its good rows; the refused ones go to the error report."""
        errors: list[tuple[Any, ...]] = []
        good = self._validate(batch, errors)
        for attempt in range(_LOAD_ATTEMPTS):
            await self._drop_registered(good, errors)
            persons, versions, events = self._rows(good)
            savepoint = await self.session.begin_nested()
            try:
                if persons:
                    await repository.copy_persons(self.session, persons, versions)
                    await outbox.copy_records(self.session, events)
            except asyncpg.UniqueViolationError:
                # Someone registered one of these ID numbers since we looked: look again and retry the batch.
                await savepoint.rollback()
                if attempt == _LOAD_ATTEMPTS - 1:
                    raise
                continue
            await savepoint.commit()
            break
        await repository.copy_errors(self.session, errors)
        refused_rows = len({error[1] for error in errors})
        self.counts.rows_read += len(batch)
        self.counts.accepted += len(good)
        self.counts.rejected += refused_rows
        ROWS.labels("accepted").inc(len(good))
        ROWS.labels("rejected").inc(refused_rows)


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
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
        await repository.create(session, import_id, file_format, principal.client_id, principal.department)
    logger.info("import %s started by %s (%s)", import_id, principal.client_id, file_format)
    loader: _Loader | None = None
    try:
        async with sessionmaker() as session, session.begin():
            loader = _Loader(session, import_id, principal, await _transaction_time(session))
            next_progress = time.monotonic() + progress_seconds
            async for batch in parsing.rows(body, file_format, IMPORT_COLUMNS, batch_rows=batch_rows):
                await loader.load(batch)
                if time.monotonic() >= next_progress:
                    await _progress(sessionmaker, import_id, loader.counts)
                    next_progress = time.monotonic() + progress_seconds
            counts = loader.counts
            finished = await repository.finish(
                session,
                import_id,
                status="completed",
                rows_read=counts.rows_read,
                accepted=counts.accepted,
                rejected=counts.rejected,
            )
    except (parsing.InvalidHeader, UnicodeDecodeError) as error:
        reason = f"not UTF-8 text: {error}" if isinstance(error, UnicodeDecodeError) else str(error)
        await _fail(sessionmaker, import_id, reason)
        raise InvalidImportFile(f"nothing was imported: {reason}", import_id=str(import_id)) from None
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
        await repository.record_progress(
            side, import_id, rows_read=counts.rows_read, accepted=counts.accepted, rejected=counts.rejected
        )


async def _fail(sessionmaker: async_sessionmaker[AsyncSession], import_id: uuid.UUID, reason: str) -> None:
    logger.warning("import %s failed: %s", import_id, reason)
    try:
        async with sessionmaker() as session, session.begin():
            await repository.finish(
                session, import_id, status="failed", rows_read=0, accepted=0, rejected=0, failure=reason
            )
    except Exception:  # the import already failed; keep its first error, not this one
        logger.exception("could not record the failure of import %s", import_id)


def _report(row: PersonImportRow, errors: list[RowError], *, truncated: bool) -> ImportReport:
    return ImportReport.model_validate(
        {**PersonImport.model_validate(row).model_dump(), "errors": errors, "errors_truncated": truncated}
    )


async def get(session: AsyncSession, import_id: uuid.UUID, department: str) -> PersonImportRow:
    """An import of ``department``; 404 for anyone else's."""
    found = await repository.get(session, import_id)
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
    rows = await repository.page(session, department, before=before_id, limit=limit + 1)
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
    rows = await repository.errors(session, import_id, after=position, limit=limit + 1)
    found = cut(rows, limit, lambda row: f"{row.line}:{row.id}")
    return Slice(items=[RowError.model_validate(row) for row in found.items], next_cursor=found.next_cursor)
