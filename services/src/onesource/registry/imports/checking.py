"""Checking an import file's blocks in worker processes, beside the request's process that loads them.

The CPU work of a bulk import — reading the rows, applying every rule of the registry, writing each good row as
``COPY`` text — happens in the processes of a :class:`CheckerPool`, several blocks at a time and while the request's
process loads the blocks already checked. What crosses between the processes is cheap to pickle: a block's bytes one
way, strings the other.

- :class:`CheckerPool`: the worker processes of one service, shared by its imports (any picklable check of a block);
- :func:`check_ahead`: blocks checked ahead of their load, and loaded one after another in file order;
- :func:`check_block`: the check of an :class:`~onesource.registry.imports.service.ImportJob`'s block — each row by
  the registry's :data:`RowRules`, the good ones written as ``COPY`` text (population has its own, faster check).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import multiprocessing
import operator
import os
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from sqlalchemy import JSON, Boolean, Date, DateTime, String, Table
from sqlalchemy.dialects.postgresql import ARRAY

from onesource.kit.collector import COLLECTOR_PAUSE
from onesource.kit.db import COPY_NULL, copy_text
from onesource.registry.imports import parsing
from onesource.registry.rules import FieldProblem

if TYPE_CHECKING:  # workers import this module first: not the app's machinery, which they never use
    from fastapi import FastAPI

    from onesource.kit.app import Extension

logger = logging.getLogger(__name__)

Job = TypeVar("Job")
Result = TypeVar("Result")


@dataclass(frozen=True)
class RowContext:
    """What the rules of a row are told beside its values."""

    today: date
    """The day the rules judge dates by (the same for every row of an import)."""
    storable: bool
    """Whether every text of the row is surely storable — UTF-8 text without NUL, as a CSV block without the byte
    gives — so the rules need not look for NULs and lone surrogates."""


RowRules = Callable[[Mapping[str, Any], RowContext], dict[str, Any] | list[FieldProblem]]
"""Checks one row by the registry's rules, from its values as the file gave them (CSV cells as text, absent when
empty; NDJSON's JSON values): the whole record to register (every row the same fields, as the record table's
columns, every record field among them), or the problems that refuse it. It runs in a worker process, so it is a
module-level function (pickled by name) and asks nothing of other services (``ImportJob.confirmation`` does)."""

#: Workers run below the service and its database: checking is the part of an import that can wait. On a busy
#: machine the database then loads at full speed while the workers use what CPU is left, ahead of the load.
_NICENESS = 10
#: How long closing waits for a worker to stop before it kills it (seconds).
_STOP_SECONDS = 5.0


def _ready() -> int:
    return os.getpid()


def _start_worker(modules: tuple[str, ...]) -> None:
    os.nice(_NICENESS)
    for module in modules:  # before its first block, not while an import waits for it
        importlib.import_module(module)


class CheckerPool:
    """The worker processes that check import files; one per service, shared by its imports.

    Workers are started (``spawn``: a clean interpreter, safe beside the event loop's threads) when the service
    starts, not by its first import. A worker that dies (killed for memory, say) fails the imports it was checking
    with 503, and the next import gets a new pool.
    """

    def __init__(self, workers: int, *, preload: Sequence[str] = ()) -> None:
        self.workers = workers
        self.preload = tuple(preload)
        """Modules each worker imports as it starts (those of the checks it runs)."""
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        executor = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.preload,),
        )
        for _ in range(self.workers):
            executor.submit(_ready)  # starts a worker each, so the first import does not wait for them
        return executor

    def submit(self, check: Callable[[Job], Result], job: Job) -> asyncio.Future[Result]:
        """``check(job)`` in a worker (``check`` is a module-level function, pickled by name).

        The future raises ``BrokenProcessPool`` if a worker died meanwhile.
        """
        try:
            future = self._executor.submit(check, job)
        except BrokenProcessPool:
            logger.warning("an import worker had stopped; starting new ones")
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._new_executor()
            future = self._executor.submit(check, job)
        return asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the workers, abandoning work not started; a worker not stopped in time is killed.

        ``shutdown(wait=True)`` alone can wait for ever: after a worker was killed, CPython 3.11's executor may never
        see the rest stop (seen once in CI, a test hanging in it). So the workers are waited for here, each for a
        while, and killed if they are still there; the executor's own thread then sees them gone and ends.
        """
        executor = self._executor
        workers = list((getattr(executor, "_processes", None) or {}).values())  # private, but a stable attribute
        executor.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.join(_STOP_SECONDS)
            if worker.is_alive():
                logger.warning("an import worker did not stop in %s s; killing it", _STOP_SECONDS)
                worker.kill()
                worker.join(_STOP_SECONDS)
        executor.shutdown(wait=True)


def import_checkers(*preload: str) -> Extension:
    """An extension making a service's :class:`CheckerPool` (``app.state.import_checkers``).

    The pool is sized by the service's ``import_workers`` setting; its workers import the modules ``preload`` (those
    of the import's rules) as they start. A registry lists it in its ``ServiceSpec.extensions``.
    """

    @asynccontextmanager
    async def extension(app: FastAPI) -> AsyncIterator[None]:
        checkers = CheckerPool(app.state.settings.import_workers, preload=preload)
        app.state.import_checkers = checkers
        try:
            yield
        finally:
            await asyncio.to_thread(checkers.close)

    return extension


@dataclass(frozen=True)
class BlockCheck:
    """One block of one import to check by the registry's rules (pickled to a worker)."""

    block: parsing.Block
    rules: RowRules
    today: date
    """The day the rules judge dates by (the same for every block of an import)."""
    key: str
    """The record key's field."""
    column_types: Mapping[str, ColumnType]
    """How each column of the record table is written as ``COPY`` text (:func:`column_types`)."""
    record_fields: tuple[str, ...]
    """The fields of the record its first version holds (every one among the rules' values)."""
    recorded_by: tuple[str, str, str | None]
    """Who registers the records: the client, its department, and the request's id."""
    confirm_field: str | None = None
    """The field of each good row another service is asked about (``ImportJob.confirmation``)."""
    import_id: str | None = None
    """The import, when its records keep their first version in their own row (``loading.first_version_in_row``):
    each row then names it in the table's ``import_id`` column, and no version row is written."""


@dataclass
class CheckedBlock:
    """A checked block: its good rows as ``COPY`` text in file order, and its refused rows."""

    rows_read: int = 0
    columns: tuple[str, ...] = ()
    """The record table's columns of the good rows (every good row has the same fields)."""
    starts: list[int] = field(default_factory=list)
    """The line each good row starts on."""
    records: list[tuple[str, str, str | None]] = field(default_factory=list)
    """Each good row's key, its record as a line of ``COPY … (FORMAT text)`` data in ``columns`` order, and its first
    version as one in ``(key, *loading.VERSION_COLUMNS)`` order (``None`` when the record's row holds it)."""
    confirming: list[Any] = field(default_factory=list)
    """Each good row's value of the ``confirm_field`` (empty without one)."""
    refusals: list[tuple[int, str | None, str | None, str]] = field(default_factory=list)
    """Refused rows as (line, key, field, reason), in file order."""


def check_block(job: BlockCheck) -> CheckedBlock:
    """Read and check the rows of ``job``'s block (runs in a worker process)."""
    # Checking makes no reference cycles, only thousands of short-lived objects, which would set off the cyclic
    # collector a few times per block for nothing; what a failure leaves behind is collected after the block.
    with COLLECTOR_PAUSE:
        # UTF-8 text holds no lone surrogate, and without the byte no NUL; NDJSON's escapes may make either
        storable = job.block.file_format == "csv" and b"\x00" not in job.block.data
        return _checked(job, parsing.block_rows(job.block), RowContext(job.today, storable))


def _checked(job: BlockCheck, rows: list[parsing.RawRow], context: RowContext) -> CheckedBlock:
    checked = CheckedBlock(rows_read=len(rows))
    rules, key, confirm_field, record_fields = job.rules, job.key, job.confirm_field, job.record_fields
    client, department, request_id = job.recorded_by
    # what follows the record in each version's row: who and in which request
    recorded = f"\t{copy_text(client)}\t{copy_text(department)}\t{COPY_NULL if request_id is None else request_id}\n"
    # what ends each record's row: the import that registered it, when the row is also its first version
    in_row = job.import_id is not None
    row_end = f"\t{job.import_id}\n" if in_row else "\n"
    encoders: list[Callable[[Any], str]] = []
    in_order: Callable[[Mapping[str, Any]], tuple[Any, ...]] = tuple
    for raw in rows:
        values = raw.values
        if values is None:
            checked.refusals.append((raw.line, None, None, raw.unreadable or "unreadable row"))
            continue
        outcome = rules(values, context)
        if isinstance(outcome, list):
            given = values.get(key)
            shown = None if given is None else str(given)[:64]
            checked.refusals.extend((raw.line, shown, problem.field or None, problem.reason) for problem in outcome)
            continue
        if not checked.columns:
            written = tuple(outcome)
            checked.columns = (*written, "import_id") if in_row else written
            encoders = [_ENCODERS[job.column_types[name]] for name in written]
            in_order = _in_order(written)
        record_key = str(outcome[key])
        fields = [
            COPY_NULL if value is None else encode(value)
            for encode, value in zip(encoders, in_order(outcome), strict=True)
        ]
        version: str | None = None
        if not in_row:
            record = {name: outcome[name] for name in record_fields}
            version = f"{copy_text(record_key)}\t1\tregistered\t{copy_text(_json_text(record))}{recorded}"
        checked.starts.append(raw.line)
        checked.records.append((record_key, "\t".join(fields) + row_end, version))
        if confirm_field is not None:
            checked.confirming.append(outcome[confirm_field])
    return checked


def _in_order(columns: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function giving a row's values of ``columns``, in order (a ``KeyError`` names a field the row lacks)."""
    if len(columns) == 1:  # itemgetter of one name gives the value, not a tuple
        return lambda values: (values[columns[0]],)
    return operator.itemgetter(*columns)


def _json_default(value: Any) -> str:
    if isinstance(value, date):  # as the API writes it (ISO 8601)
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no JSON form in an import's records")


# One encoder for every row (``json.dumps`` with options makes a new one per call).
_json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default).encode


ColumnType = Literal["text", "json", "text[]", "date", "boolean", "other"]
"""How a column's values are written as ``COPY`` text."""


def column_types(table: Table) -> dict[str, ColumnType]:
    """How each column of ``table`` is written as ``COPY`` text."""
    found: dict[str, ColumnType] = {}
    for column in table.columns:
        column_type = column.type
        if isinstance(column_type, JSON):
            found[column.name] = "json"
        elif isinstance(column_type, ARRAY) and isinstance(column_type.item_type, String):
            found[column.name] = "text[]"
        elif isinstance(column_type, String):
            found[column.name] = "text"
        elif isinstance(column_type, Date | DateTime):
            found[column.name] = "date"  # ISO 8601, which PostgreSQL reads
        elif isinstance(column_type, Boolean):
            found[column.name] = "boolean"
        else:
            found[column.name] = "other"
    return found


def text_array(values: Sequence[str]) -> str:
    """A PostgreSQL ``text[]`` literal of ``values`` (every element quoted), as one ``COPY`` text field."""
    if not values:
        return "{}"
    elements = ",".join('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)
    return copy_text("{" + elements + "}")


_ENCODERS: dict[ColumnType, Callable[[Any], str]] = {
    "text": copy_text,
    "json": lambda value: copy_text(_json_text(value)),
    "text[]": lambda values: text_array(values),
    "date": lambda value: str(value.isoformat()),
    "boolean": lambda value: "t" if value else "f",
    "other": lambda value: copy_text(str(value)),
}


async def check_ahead(
    blocks: AsyncIterator[parsing.Block],
    check: Callable[[parsing.Block], Awaitable[Result]],
    load: Callable[[Result], Awaitable[None]],
    *,
    ahead: int,
) -> None:
    """Check every block of ``blocks`` and load it, in file order, while the next blocks are read and checked.

    Each block's ``check`` starts as soon as the block is read (in a worker, say); loads run one after another in
    file order (each waits for the one before, and none runs after a failed one), so the import's connection is
    never shared. Up to ``ahead`` blocks are in hand at once, so neither the workers nor the database wait long for
    the other, and memory stays bounded.
    """
    loads: deque[asyncio.Task[None]] = deque()
    try:
        async for block in blocks:
            if len(loads) >= ahead:
                await loads.popleft()
            checking = asyncio.ensure_future(check(block))
            loads.append(asyncio.create_task(_load_after(loads[-1] if loads else None, checking, load)))
        while loads:
            await loads.popleft()
    except BaseException:
        # The transaction rolls back next, on the connection the loads use: let the one in flight finish first.
        if loads:
            await asyncio.wait(loads)
            for pending in loads:  # their errors are retrieved: the one being raised stopped the import
                if not pending.cancelled():
                    pending.exception()
        raise


async def _load_after(
    previous: asyncio.Task[None] | None,
    checking: asyncio.Future[Result],
    load: Callable[[Result], Awaitable[None]],
) -> None:
    try:
        if previous is not None:
            await previous  # raises its error, so no later block loads after a failed one
        checked = await checking
    except BaseException:
        checking.cancel()  # a block not yet checked need not be
        raise
    await load(checked)
