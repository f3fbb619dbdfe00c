"""The audit writer: ``record()`` returns once its entry is committed; one task group-commits whatever waits.

How it works (per gateway process):

- ``record()`` serialises the entry (:mod:`.chain`), puts it on a bounded queue and awaits a future. A full queue
  fails at once with :class:`AuditUnavailable` rather than letting calls pile up behind a slow database.
- One writer task takes the first waiting entry as soon as it arrives — no timer, so an idle gateway commits a
  lone entry at once — plus everything else already waiting, up to ``batch_size``. Entries that arrive while a
  commit is in flight wait for the next one: batches grow with load by themselves (group commit, as in the
  PostgreSQL WAL writer).
- A batch is one transaction on the writer's own connection: lock the head row ``FOR UPDATE`` (so any number of
  gateway processes extend one chain, gap-free and without forks), hash each entry onto the chain, insert them all
  and move the head in one statement, commit. Only then are the waiting futures resolved; if anything fails, every
  waiter of the batch gets :class:`AuditUnavailable` and, the transaction being rolled back, nothing of it exists.
- Fast path: a writer that committed the last batch knows the head and hashes onto it without locking; one
  autocommit statement appends the batch only if the head is still there (one round trip instead of four, which
  is most of what every data call waits for). If another process moved it, nothing is written and the batch
  takes the locking path.
- A second task signs the head every ``checkpoint_interval_seconds`` when it moved (:mod:`.signing`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from onesource.gateway.audit import chain, repository, signing
from onesource.gateway.audit.entry import AuditEntry
from onesource.gateway.audit.errors import AuditUnavailable
from onesource.gateway.keys import service as keys
from onesource.gateway.settings import Settings
from onesource.kit.app import stop_tasks

logger = logging.getLogger(__name__)

COMMITTED = Counter("onesource_audit_entries_committed_total", "Audit entries committed to the chain")
FAILED = Counter("onesource_audit_entries_failed_total", "Audit entries refused or not committed", ["reason"])
BATCH_SIZE = Histogram(
    "onesource_audit_batch_entries",
    "Entries per audit commit",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000),
)
COMMIT_SECONDS = Histogram(
    "onesource_audit_commit_seconds",
    "Time to lock the head, append a batch and commit",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)


@dataclass(slots=True)
class _Waiting:
    body: str
    """The entry's canonical body."""
    committed: asyncio.Future[None]


class AuditLog:
    """Appends entries to the hash chain with group commit, failing closed; signs checkpoints of the head."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._config = settings.audit
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue(maxsize=self._config.queue_size)
        self._connection: AsyncConnection | None = None
        self._driver: Any = None
        """The asyncpg connection under ``_connection``."""
        self._head: tuple[int, str] | None = None
        """The head this writer committed last (``None``: unknown, take the locking path)."""
        self._tasks: list[asyncio.Task[None]] = []
        self._accepting = False
        self.batches_committed = 0
        """Transactions committed by this instance (group commit makes it smaller than ``entries_committed``)."""
        self.entries_committed = 0
        """Entries committed by this instance."""

    async def start(self) -> None:
        """Start the writer and the checkpoint tasks."""
        self._accepting = True
        self._tasks = [
            asyncio.create_task(self._write_forever(), name="audit-writer"),
            asyncio.create_task(self._checkpoint_forever(), name="audit-checkpointer"),
        ]

    async def record(self, entry: AuditEntry) -> None:
        """Return once ``entry`` is committed to the chain; :class:`AuditUnavailable` (503) when it cannot be."""
        if not self._accepting or self._tasks[0].done():  # stopped, or (a defect) the writer task ended
            FAILED.labels("stopped").inc()
            raise AuditUnavailable("the audit log is not running")
        waiting = _Waiting(chain.canonical(chain.body_of_entry(entry)), asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(waiting)
        except asyncio.QueueFull:
            FAILED.labels("queue-full").inc()
            raise AuditUnavailable("the audit log is saturated; retry shortly") from None
        # If the caller is cancelled (client gone), the entry is still committed: recording too much is harmless.
        await waiting.committed

    async def checkpoint(self) -> int | None:
        """Sign the committed head if it moved since the last checkpoint; the ``seq`` signed, else ``None``."""
        async with AsyncSession(self._engine) as session, session.begin():
            head = await repository.head(session)
            if head is None or head[0] == 0 or await repository.last_checkpoint_seq(session) >= head[0]:
                return None
            seq, hash = head
            kid, key = await keys.signer(session, self._settings)
            signed_at = datetime.now(UTC)
            signature = signing.sign(seq=seq, hash=hash, time=signed_at, issuer=self._settings.issuer, kid=kid, key=key)
            stored = await repository.insert_checkpoint(
                session, seq=seq, hash=hash, signed_at=signed_at, kid=kid, signature=signature
            )
        if stored:
            logger.info("audit checkpoint signed at seq %d with key %s", seq, kid)
        return seq if stored else None

    async def stop(self) -> None:
        """Stop accepting, commit what waits (for up to ``stop_timeout_seconds``), sign the final head, close."""
        self._accepting = False
        if self._tasks:
            try:
                await asyncio.wait_for(self._queue.join(), self._config.stop_timeout_seconds)
            except TimeoutError:
                logger.warning("audit log stopped with %d entries not committed", self._queue.qsize())
            await stop_tasks(self._tasks)
            self._tasks = []
        while not self._queue.empty():
            self._fail([self._queue.get_nowait()], "the audit log stopped")
        try:
            async with asyncio.timeout(self._config.commit_timeout_seconds):
                await self.checkpoint()
        except Exception as error:  # the next start (or another gateway) signs it
            logger.warning("no final audit checkpoint: %r", error)
        await self._discard_connection()

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._config.batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[_Waiting]) -> None:
        started = asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(self._config.commit_timeout_seconds):
                await self._append(batch)
        except asyncio.CancelledError:
            self._fail(batch, "the audit log stopped before the entry was committed")
            raise
        except Exception as error:
            logger.error("audit batch of %d entries not committed: %r", len(batch), error)
            FAILED.labels("commit").inc(len(batch))
            self._fail(batch, "the audit entry of this call could not be committed; retry shortly")
            return
        COMMIT_SECONDS.observe(asyncio.get_running_loop().time() - started)
        BATCH_SIZE.observe(len(batch))
        COMMITTED.inc(len(batch))
        self.batches_committed += 1
        self.entries_committed += len(batch)
        for waiting in batch:
            if not waiting.committed.done():  # done = cancelled: its caller went away
                waiting.committed.set_result(None)

    async def _append(self, batch: list[_Waiting]) -> None:
        unsure: tuple[int, str] | None = None  # the head a fast-path statement that failed in flight would have set
        for attempt in range(2):
            reused = self._connection is not None
            if self._connection is None or self._driver is None:
                self._connection = await self._engine.connect()
                # asyncpg, see repository; looked up once per connection, not once per batch
                self._driver = (await self._connection.get_raw_connection()).driver_connection
            driver = self._driver
            if driver is None:
                raise RuntimeError("the writer's connection has no driver connection")
            committing = False
            try:
                if unsure is not None and await repository.has_entry(driver, *unsure):
                    # The fast-path statement had committed before its connection failed: the batch is in.
                    self._head = None
                    return
                if self._head is not None and unsure is None:
                    expected_seq, expected_hash = self._head
                    self._head = None  # unknown until this statement is known to have committed
                    rows_json, seq, last_hash = _chained(batch, expected_seq, expected_hash)
                    # Autocommit: if the connection fails now the outcome is unknown; the retry looks for the last
                    # entry's hash (unique) before appending again, so the batch is never written twice.
                    unsure = (seq, last_hash)
                    moved = await repository.append_if_head(
                        driver,
                        rows_json,
                        head_seq=seq,
                        head_hash=last_hash,
                        expected_seq=expected_seq,
                        expected_hash=expected_hash,
                    )
                    unsure = None
                    if moved:
                        self._head = (seq, last_hash)
                        return
                    # Nothing was written: another gateway process moved the head. Lock and append below.
                async with driver.transaction():
                    seq, prev_hash = await repository.lock_head(driver)
                    rows_json, seq, last_hash = _chained(batch, seq, prev_hash)
                    await repository.append(driver, rows_json, head_seq=seq, head_hash=last_hash)
                    committing = True
                self._head = (seq, last_hash)
                return
            except Exception:
                await self._discard_connection(invalidate=True)
                # A connection kept since the last batch may have died meanwhile (database restart, idle timeout):
                # retry once on a fresh one — but never after COMMIT was sent, whose outcome is unknown.
                if committing or not (reused or unsure is not None) or attempt > 0:
                    raise
                logger.warning("audit writer connection failed; retrying the batch on a new connection")
            except BaseException:
                await self._discard_connection(invalidate=True)
                raise

    async def _discard_connection(self, *, invalidate: bool = False) -> None:
        connection, self._connection = self._connection, None
        self._driver = None
        if connection is None:
            return
        if invalidate:  # after a failure (or a cancelled query) its state is unknown: never back into the pool
            with contextlib.suppress(Exception):
                await connection.invalidate()
        with contextlib.suppress(Exception):
            await connection.close()

    def _fail(self, batch: list[_Waiting], detail: str) -> None:
        for waiting in batch:
            if not waiting.committed.done():
                waiting.committed.set_exception(AuditUnavailable(detail))

    async def _checkpoint_forever(self) -> None:
        while True:
            await asyncio.sleep(self._config.checkpoint_interval_seconds)
            try:
                async with asyncio.timeout(self._config.commit_timeout_seconds):
                    await self.checkpoint()
            except Exception as error:  # retried at the next interval; verification reports a missing one
                logger.warning("audit checkpoint failed: %r", error)


def _chained(batch: list[_Waiting], seq: int, prev_hash: str) -> tuple[str, int, str]:
    """The batch as a JSON array of ``audit_entry`` rows hashed onto (``seq``, ``prev_hash``); and the new head."""
    rows: list[str] = []
    for waiting in batch:
        seq += 1
        entry_hash = chain.entry_hash(seq, prev_hash, waiting.body)
        # The body is a JSON object; splice the chain columns in front of its first key.
        rows.append(f'{{"seq":{seq},"prev_hash":"{prev_hash}","hash":"{entry_hash}",{waiting.body[1:]}')
        prev_hash = entry_hash
    return f"[{','.join(rows)}]", seq, prev_hash


@asynccontextmanager
async def audit_log(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan extension: an :class:`AuditLog` on ``app.state.audit``, drained and stopped at shutdown."""
    log = AuditLog(app.state.engine, app.state.settings)
    await log.start()
    app.state.audit = log
    try:
        yield
    finally:
        await log.stop()
