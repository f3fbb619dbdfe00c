"""Bulk import of persons: stream, validate every row by the registry's rules, load the good rows with ``COPY``.

One import is one transaction: the good rows, their ``person.registered`` events and the error report commit
together, or — when the upload breaks off or the database fails — nothing does. A refused row never stops the
others, and no row is ever half written. Progress is committed on the side while it runs.

Reading and checking the file overlaps with loading it: while the database loads one batch, the next one is read
and checked. Per person the import writes two rows, the person (which names its import, and so is also its first
version until it changes — see ``models.Person.import_id``) and the outbox event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import operator
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any, NamedTuple

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
from onesource.population.imports.schemas import (
    IMPORT_COLUMNS,
    ImportReport,
    ImportRow,
    PersonImport,
    RowError,
    plain_csv_reader,
    typed_row,
)
from onesource.population.models import PersonImport as PersonImportRow
from onesource.population.persons import repository as persons_repository
from onesource.population.persons.events import PERSON_TOPIC, PersonRegistered
from onesource.population.persons.rules import record_problems

logger = logging.getLogger(__name__)

ROWS = Counter("onesource_population_import_rows_total", "Rows read by bulk imports", ["outcome"])
#: Refused rows listed in the import's answer; the rest are at ``/v1/imports/{id}/errors``.
REPORTED_ERRORS = 100
#: Attempts at loading one batch when concurrent registrations keep taking its ID numbers.
_LOAD_ATTEMPTS = 5
#: Rows read and checked between two turns of the event loop: each turn lets the load of the previous batch
#: hand the database more data, so it never waits long for the checking of the next.
_STEP_ROWS = 100
#: Checked batches that may wait for their load while the next is checked (each holds ``import_batch_rows`` rows).
_BATCHES_AHEAD = 2

#: The values of a checked row in ``repository.PERSON_COLUMNS`` order (``import_id`` follows).
_person_columns = operator.itemgetter(*repository.PERSON_COLUMNS)
_json_text = json.JSONEncoder(ensure_ascii=False).encode
#: A JSON string literal of a ``str`` (what ``_json_text`` does for one, without its dispatch).
_json_string: Callable[[str], str] = encode_basestring


@dataclass
class _Counts:
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    first_errors: list[RowError] = field(default_factory=list)


class _Good(NamedTuple):
    """A row that passed every check, ready to load: its person row and its outbox event."""

    line: int
    person: tuple[Any, ...]
    event: tuple[str, str, str, int, str]


@dataclass
class _Batch:
    """Rows checked together and loaded together (in one savepoint)."""

    rows_read: int = 0
    good: dict[str, _Good] = field(default_factory=dict)
    """Good rows by ID number, in file order."""
    errors: list[tuple[Any, ...]] = field(default_factory=list)
    """``person_import_error`` rows, in the order the report lists them."""


def _quoted(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


def _record_json(values: dict[str, Any]) -> str:
    """The record of a checked row as JSON text, equal once parsed to what the API writes (``record_of``).

    Only the free-text fields need JSON escaping: every other field passed the registry's rules, which admit only
    digits, ``X``, ``-`` and ASCII letters there. The keys come in the order ``jsonb`` keeps them (shorter first,
    then bytewise), which spares PostgreSQL sorting them when it stores the event: a fifth of the outbox's load.
    """
    death_date = values["death_date"]
    former_names = values["former_names"]
    address = values["household_address"]
    return (
        f'{{"sex":"{values["sex"]}","name":{_json_string(values["name"])},'
        f'"deceased":{"true" if values["deceased"] else "false"},"education":{_quoted(values["education"])},'
        f'"ethnicity":"{values["ethnicity"]}","id_number":"{values["id_number"]}",'
        f'"birth_date":"{values["birth_date"].isoformat()}",'
        f'"death_date":{"null" if death_date is None else _quoted(death_date.isoformat())},'
        f'"former_names":{_json_text(former_names) if former_names else "[]"},'
        f'"household_id":{_quoted(values["household_id"])},"marital_status":{_quoted(values["marital_status"])},'
        f'"birthplace_code":"{values["birthplace_code"]}",'
        f'"household_address":{"null" if address is None else _json_string(address)},'
        f'"relationship_to_head":{_quoted(values["relationship_to_head"])},'
        f'"household_region_code":"{values["household_region_code"]}"}}'
    )


class _Loader:
    """Validates and loads the batches of one import inside its transaction."""

    def __init__(self, session: AsyncSession, import_id: uuid.UUID, principal: Principal, now: datetime) -> None:
        self.session = session
        self.import_id = import_id
        # Person rows hold only strings, dates and tuples, which the garbage collector stops tracking: batches of
        # them waiting for their load then cost it nothing (with a UUID object or lists in them, each collection
        # would walk them all again).
        self._import_id_text = str(import_id)
        self.principal = principal
        self.today = now.date()
        self.counts = _Counts()
        self.envelope = EnvelopeWriter(PersonRegistered, now)

    def _refuse(self, batch: _Batch, line: int, id_number: Any, field_name: str | None, reason: str) -> None:
        number = str(id_number)[:32] if id_number is not None else None
        batch.errors.append((self.import_id, line, number, field_name, reason))

    def _validated(self, raw: parsing.RawRow, values: dict[str, Any], batch: _Batch) -> dict[str, Any] | None:
        """The row's typed fields by the API's own model, or ``None`` with its problems refused."""
        try:
            return dict(ImportRow.model_validate(values).__dict__)  # model_dump would copy them slower
        except ValidationError as error:
            id_number = values.get("id_number")
            for problem in error.errors(include_url=False):
                location = problem["loc"]
                self._refuse(batch, raw.line, id_number, str(location[0]) if location else None, problem["msg"])
            return None

    def check(self, rows: list[parsing.RawRow], batch: _Batch) -> None:
        """Validate ``rows`` into ``batch``: good ones ready to load, refused ones with their reasons."""
        good = batch.good
        batch.rows_read += len(rows)
        for raw in rows:
            typed = raw.typed
            if typed is None:
                values = raw.values
                if values is None:
                    self._refuse(batch, raw.line, None, None, raw.unreadable or "unreadable row")
                    continue
                # Well-formed rows skip the model (several times slower); it reads the others and words their errors.
                typed = typed_row(values)
                if typed is None:
                    typed = self._validated(raw, values, batch)
                    if typed is None:
                        continue
            typed["deceased"] = typed["death_date"] is not None
            broken = record_problems(typed, today=self.today)
            id_number: str = typed["id_number"]
            if broken:
                for rule in broken:
                    self._refuse(batch, raw.line, id_number, rule.field, rule.reason)
                continue
            earlier = good.get(id_number)
            if earlier is not None:
                self._refuse(batch, raw.line, id_number, "id_number", f"duplicate of line {earlier.line}")
                continue
            # Tuples of strings, dates and tuples only: the garbage collector stops tracking them (see __init__).
            typed["former_names"] = tuple(typed["former_names"])
            person = (*_person_columns(typed), self._import_id_text)
            event_id, event_json = self.envelope(id_number, f'{{"record":{_record_json(typed)}}}')
            good[id_number] = _Good(raw.line, person, outbox.copy_record(PERSON_TOPIC, event_id, id_number, event_json))

    async def _drop_registered(self, batch: _Batch) -> None:
        good = batch.good
        for id_number, import_id in (await repository.first_registrations(self.session, list(good))).items():
            row = good.pop(id_number)
            reason = (
                "duplicate of an earlier row of this file"
                if import_id == self.import_id
                else "a person with this ID number is already registered"
            )
            self._refuse(batch, row.line, id_number, "id_number", reason)

    async def write(self, batch: _Batch) -> None:
        """Load the good rows of ``batch`` and record its refused ones."""
        for attempt in range(_LOAD_ATTEMPTS):
            if attempt:  # only after a conflict: looking first would cost every batch a query
                await self._drop_registered(batch)
            if not batch.good:
                break
            savepoint = await self.session.begin_nested()
            try:
                await repository.copy_persons(self.session, [row.person for row in batch.good.values()])
                await outbox.copy_records(self.session, [row.event for row in batch.good.values()])
            except asyncpg.UniqueViolationError:
                # An ID number is registered already, by an earlier batch or someone else: look, and retry.
                await savepoint.rollback()
                if attempt == _LOAD_ATTEMPTS - 1:
                    raise
                continue
            await savepoint.commit()
            break
        await repository.copy_errors(self.session, batch.errors)
        self._count(batch)

    def _count(self, batch: _Batch) -> None:
        counts = self.counts
        for _, line, number, field_name, reason in batch.errors:
            if len(counts.first_errors) >= REPORTED_ERRORS:
                break
            counts.first_errors.append(RowError(line=line, id_number=number, field=field_name, reason=reason))
        refused_rows = len({error[1] for error in batch.errors})
        counts.rows_read += batch.rows_read
        counts.accepted += len(batch.good)
        counts.rejected += refused_rows
        ROWS.labels("accepted").inc(len(batch.good))
        ROWS.labels("rejected").inc(refused_rows)

    async def load(
        self,
        body: AsyncIterator[list[parsing.RawRow]],
        *,
        batch_rows: int,
        loaded: Callable[[_Counts], Awaitable[None]],
    ) -> None:
        """Check the rows of ``body`` and load them ``batch_rows`` at a time, while the next batches are checked.

        Loads run one after another (each waits for the one before), so the transaction's connection is never
        shared; up to ``_BATCHES_AHEAD`` checked batches wait for theirs, so the checking rarely waits for the
        database. Batches hold exactly ``batch_rows`` rows however the body arrives: a row repeating an ID number
        of its own batch is refused as a duplicate of that line, one repeating an earlier batch's as an earlier row.
        """
        loads: deque[asyncio.Task[None]] = deque()
        batch = _Batch()
        try:
            async for rows in body:
                while rows:
                    room = batch_rows - batch.rows_read
                    self.check(rows[:room], batch)
                    rows = rows[room:]
                    if batch.rows_read == batch_rows:
                        if len(loads) == _BATCHES_AHEAD:
                            await loads.popleft()
                        loads.append(asyncio.create_task(self._load_after(loads[-1] if loads else None, batch, loaded)))
                        batch = _Batch()
                # Let the load in flight hand the database more rows (a body arriving over a network yields here
                # anyway; one already in memory would not).
                await asyncio.sleep(0)
            await self._load_after(loads[-1] if loads else None, batch, loaded)
        except BaseException:
            # The transaction rolls back next, on the connection the loads use: let the one in flight finish first.
            if loads:
                await asyncio.wait(loads)
                for load in loads:  # their errors are retrieved: the one being raised stopped the import
                    if not load.cancelled():
                        load.exception()
            raise

    async def _load_after(
        self, previous: asyncio.Task[None] | None, batch: _Batch, loaded: Callable[[_Counts], Awaitable[None]]
    ) -> None:
        if previous is not None:
            await previous  # raises its error, so no later batch loads after a failed one
        await self.write(batch)
        await loaded(self.counts)


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
        await repository.create(
            session, import_id, file_format, principal.client_id, principal.department, request_id_var.get()
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
            loader = _Loader(session, import_id, principal, await _transaction_time(session))
            rows = parsing.rows(body, file_format, IMPORT_COLUMNS, batch_rows=_STEP_ROWS, plain_reader=plain_csv_reader)
            await loader.load(rows, batch_rows=batch_rows, loaded=loaded)
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
