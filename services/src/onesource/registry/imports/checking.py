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
import gc
import json
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from fastapi import FastAPI

from onesource.kit.db import COPY_NULL, copy_text
from onesource.registry.imports import parsing
from onesource.registry.rules import FieldProblem

logger = logging.getLogger(__name__)

Job = TypeVar("Job")
Result = TypeVar("Result")

RowRules = Callable[[Mapping[str, Any], date], dict[str, Any] | list[FieldProblem]]
"""Checks one row by the registry's rules, from its values as the file gave them (CSV cells as text, absent when
empty; NDJSON's JSON values) and the day its rules judge dates by: the typed values to register (every row the same
fields, as the record table's columns), or the problems that refuse it. It runs in a worker process, so it is a
module-level function (pickled by name) and asks nothing of other services (``ImportJob.confirm`` does)."""

#: Workers run below the service and its database: checking is the part of an import that can wait. On a busy
#: machine the database then loads at full speed while the workers use what CPU is left, ahead of the load.
_NICENESS = 10


def _ready() -> int:
    return os.getpid()


class CheckerPool:
    """The worker processes that check import files; one per service, shared by its imports.

    Workers are started (``spawn``: a clean interpreter, safe beside the event loop's threads) when the service
    starts, not by its first import. A worker that dies (killed for memory, say) fails the imports it was checking
    with 503, and the next import gets a new pool.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        executor = ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=os.nice, initargs=(_NICENESS,)
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
        """Stop the workers, abandoning work not started."""
        self._executor.shutdown(wait=True, cancel_futures=True)


@asynccontextmanager
async def import_checkers(app: FastAPI) -> AsyncIterator[None]:
    """A service's :class:`CheckerPool` (``app.state.import_checkers``), sized by its ``import_workers`` setting.

    A registry lists it in its ``ServiceSpec.extensions``.
    """
    checkers = CheckerPool(app.state.settings.import_workers)
    app.state.import_checkers = checkers
    try:
        yield
    finally:
        await asyncio.to_thread(checkers.close)


@dataclass(frozen=True)
class BlockCheck:
    """One block of one import to check by the registry's rules (pickled to a worker)."""

    block: parsing.Block
    rules: RowRules
    today: date
    """The day the rules judge dates by (the same for every block of an import)."""
    key: str
    """The record key's field."""
    json_columns: frozenset[str]
    """Columns written as JSON text (the others by their type: text, dates, text arrays …)."""
    record_fields: tuple[str, ...]
    """The fields of the record its first version holds (every one among the rules' values)."""
    recorded_by: tuple[str, str, str | None]
    """Who registers the records: the client, its department, and the request's id."""
    confirm_field: str | None = None
    """The field of each good row another service is asked about (``ImportJob.confirmation``)."""


@dataclass
class CheckedBlock:
    """A checked block: its good rows as ``COPY`` text in file order, and its refused rows."""

    rows_read: int = 0
    columns: tuple[str, ...] = ()
    """The record table's columns of the good rows (every good row has the same fields)."""
    starts: list[int] = field(default_factory=list)
    """The line each good row starts on."""
    records: list[tuple[str, str, str]] = field(default_factory=list)
    """Each good row's key, its record as a line of ``COPY … (FORMAT text)`` data in ``columns`` order, and its first
    version as one in ``(key, *loading.VERSION_COLUMNS)`` order."""
    confirming: list[Any] = field(default_factory=list)
    """Each good row's value of the ``confirm_field`` (empty without one)."""
    refusals: list[tuple[int, str | None, str | None, str]] = field(default_factory=list)
    """Refused rows as (line, key, field, reason), in file order."""


def check_block(job: BlockCheck) -> CheckedBlock:
    """Read and check the rows of ``job``'s block (runs in a worker process)."""
    # Checking makes no reference cycles, only thousands of short-lived objects, which would set off the cyclic
    # collector a few times per block for nothing; what a failure leaves behind is collected after the block.
    gc.disable()
    try:
        return _checked(job, parsing.block_rows(job.block))
    finally:
        gc.enable()


def _checked(job: BlockCheck, rows: list[parsing.RawRow]) -> CheckedBlock:
    checked = CheckedBlock(rows_read=len(rows))
    rules, today, key, confirm_field = job.rules, job.today, job.key, job.confirm_field
    client, department, request_id = job.recorded_by
    # what follows the record in each version's row: who and in which request
    recorded = f"\t{copy_text(client)}\t{copy_text(department)}\t{_copy_field(request_id, as_json=False)}\n"
    for raw in rows:
        values = raw.values
        if values is None:
            checked.refusals.append((raw.line, None, None, raw.unreadable or "unreadable row"))
            continue
        outcome = rules(values, today)
        if isinstance(outcome, list):
            given = values.get(key)
            shown = None if given is None else str(given)[:64]
            checked.refusals.extend((raw.line, shown, problem.field or None, problem.reason) for problem in outcome)
            continue
        if not checked.columns:
            checked.columns = tuple(outcome)
        record_key = str(outcome[key])
        record = {name: outcome[name] for name in job.record_fields}
        version = f"{copy_text(record_key)}\t1\tregistered\t{copy_text(_json_text(record))}{recorded}"
        checked.starts.append(raw.line)
        checked.records.append((record_key, copy_line(outcome, checked.columns, job.json_columns), version))
        if confirm_field is not None:
            checked.confirming.append(outcome[confirm_field])
    return checked


def _json_default(value: Any) -> str:
    if isinstance(value, date):  # as the API writes it (ISO 8601)
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no JSON form in an import's records")


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def copy_line(values: Mapping[str, Any], columns: Sequence[str], json_columns: frozenset[str]) -> str:
    """``values`` as one line of ``COPY … (FORMAT text)`` data, in ``columns`` order."""
    return "\t".join(_copy_field(values[name], name in json_columns) for name in columns) + "\n"


def _copy_field(value: Any, as_json: bool) -> str:
    if value is None:
        return COPY_NULL
    if as_json:
        return copy_text(_json_text(value))
    if isinstance(value, str):
        return copy_text(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list):
        return text_array(value)
    if isinstance(value, date):  # a datetime too: ISO 8601 is what PostgreSQL reads
        return value.isoformat()
    return copy_text(str(value))


def text_array(values: Sequence[str]) -> str:
    """A PostgreSQL ``text[]`` literal of ``values`` (every element quoted), as one ``COPY`` text field."""
    if not values:
        return "{}"
    elements = ",".join('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)
    return copy_text("{" + elements + "}")


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
