"""Transactional outbox and its relay.

``add(session, event)`` writes the event in the caller's transaction; it reaches Kafka only if that
transaction commits. The relay claims pending rows with ``FOR UPDATE SKIP LOCKED``, publishes them with
``acks=all`` keyed by subject, and marks them sent in the same transaction that claimed them.

Ordering with several relays: rows are spread over a fixed number of shards by a hash of their key, and a
relay claims rows only of the shards whose transaction-level advisory locks it holds, in id order. So at most
one relay publishes a given key at a time, and per-key order holds however many relays run; a relay that
finds every shard held stays idle until the others let go.
A relay that dies between publishing and marking leaves its rows pending: they are published again
(at-least-once; consumers deduplicate on the CloudEvents id).

Deferred events (``add_deferred``): a bulk load of many records writes, per shard, one row that names the records'
keys instead of one row per event, and the relay has the named renderer write the events from the committed rows
when it publishes them. The events are still committed with the change (the row is, and what it names is
immutable, such as a record's first version); the load writes at most one small row per shard and block instead
of an event of most of a kilobyte per record, a large share of an import's database work. Their ids
are derived (``events.derived_event_id``), so a republished event keeps its id. A deferred row is stored under
``SHARDS + shard``: relays of releases before deferred events claim only shards ``0..SHARDS-1``, so in a rolling
deploy they leave such rows alone (rather than publish their key lists as events) and a relay that renders them
takes them; a key's later events may then leave before its deferred one, while an old relay holds its shard. A row
whose renderer fails (or is missing) holds up only its own shard: the relay publishes the other shards, and that
shard up to the row, and tries the row again on its next pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from opentelemetry import trace
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import BigInteger, Select, Text, any_, cast, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import registry
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from onesource.kit.events import DomainEvent, new_event_id
from onesource.kit.kafka import create_producer, ensure_topics, start_client
from onesource.kit.settings import KafkaSettings
from onesource.kit.tables import NOTIFY_CHANNEL, outbox_event
from onesource.kit.telemetry import context_from_headers, current_trace_context, tracer

logger = logging.getLogger(__name__)

#: Fixed for the lifetime of a database: changing it would let two relays share a key.
SHARDS = 16
#: Namespace of the relay's advisory locks (first half of the two-int lock key).
_LOCK_NAMESPACE = 0x05_0B_0C

PENDING = Gauge("onesource_outbox_pending_rows", "Outbox rows not yet published", ["service"])
PUBLISHED = Counter("onesource_outbox_published_total", "Outbox events acknowledged by the broker", ["service"])
PUBLISH_ERRORS = Counter("onesource_outbox_publish_errors_total", "Failed relay passes", ["service"])
RENDER_ERRORS = Counter(
    "onesource_outbox_render_errors_total",
    "Deferred outbox rows that could not be rendered (their shard waits)",
    ["service"],
)
#: How often the relay logs the same row that cannot be rendered at ERROR.
RENDER_LOG_SECONDS = 60.0
LATENCY = Histogram(
    "onesource_outbox_publish_latency_seconds",
    "Time from outbox insert to broker acknowledgement of the oldest event of each published batch",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

_tracer = tracer(__name__)
_CLAIM_SHARDS = text(
    "SELECT shard FROM generate_series(0, :last) AS shard WHERE pg_try_advisory_xact_lock(:namespace, shard)"
)
_HEADERS = (("content-type", b"application/cloudevents+json"),)
#: Batches one relay transaction reads ahead while earlier ones wait for their acknowledgements.
PIPELINE = 16
#: The pending-rows gauge costs a count over the pending index; refresh it at most this often.
PENDING_REFRESH_SECONDS = 5.0


def shard_of(key: str) -> int:
    """The relay shard of a record key (stable across processes and releases)."""
    return zlib.crc32(key.encode()) % SHARDS


class OutboxEvent:
    """One pending or published outbox row (mapped onto ``outbox_event``)."""

    def __init__(self, **columns: Any) -> None:
        for name, value in columns.items():
            setattr(self, name, value)


# Mapped with the ORM so that the rows a transaction adds are written in one batched INSERT when the session
# flushes (at commit at the latest), instead of one round trip per event. A statement-level trigger on the
# table sends the NOTIFY that wakes the relay (see migrations.create_kit_tables_v1).
registry().map_imperatively(OutboxEvent, outbox_event)


def add(session: AsyncSession, event: DomainEvent) -> str:
    """Add ``event`` to the outbox in the session's transaction (written at flush); returns the CloudEvents id."""
    envelope = event.to_cloudevent()
    session.add(
        OutboxEvent(
            event_id=envelope.id,
            topic=event.topic,
            key=envelope.subject,
            shard=shard_of(envelope.subject),
            payload=envelope.model_dump(mode="json"),
            trace_context=current_trace_context(),
        )
    )
    return envelope.id


#: The outbox row of one event, on a plain asyncpg connection. Its JSON goes as text and is cast in SQL, so the
#: statement means the same on any connection, whatever JSON codec it has.
_INSERT = (
    "INSERT INTO outbox_event (event_id, topic, key, shard, payload, trace_context)"
    " VALUES ($1, $2, $3, $4, $5::text::json, $6::text::jsonb)"
)


async def write(connection: asyncpg.Connection, event: DomainEvent) -> str:
    """:func:`add` on a plain asyncpg connection inside the caller's transaction (a write without a session)."""
    envelope = event.to_cloudevent()
    trace_context = json.dumps(current_trace_context(), separators=(",", ":"))
    subject = envelope.subject
    await connection.execute(
        _INSERT, envelope.id, event.topic, subject, shard_of(subject), envelope.model_dump_json(), trace_context
    )
    return envelope.id


class Message(NamedTuple):
    """One event as the relay publishes it: its CloudEvents id, its Kafka key and its CloudEvent JSON text."""

    event_id: str
    key: str
    payload: str


@dataclass(frozen=True)
class Deferred:
    """What a deferred outbox row stands for: one event about each of ``keys`` on ``topic``."""

    topic: str
    keys: list[str]
    """Record keys, all of one shard, in the order their events are published."""
    details: dict[str, Any]
    """What the writer told the renderer (for an import: which import, and when)."""


#: Writes the events a deferred row stands for, one per key and in the keys' order, from the committed rows they are
#: about; it runs inside the relay's transaction, on its connection. Registered with the relay by name.
Renderer = Callable[[AsyncConnection, Deferred], Awaitable[Sequence[Message]]]


async def add_deferred(
    session: AsyncSession, renderer: str, topic: str, keys: Sequence[str], details: Mapping[str, Any]
) -> None:
    """Add events about ``keys`` that the relay has ``renderer`` write at publication, in the session's transaction.

    One row per shard of the keys (so that each relay publishes only its own shards, in order with the keys' other
    events); ``details`` (JSON) go to the renderer. What it renders from must not change after the commit, or the
    events would say what was not committed: a bulk import renders each person's first version. Written at once, in
    one statement (the ORM's flush of these rows cost a bulk import a tenth of its load time).
    """
    by_shard: dict[int, list[str]] = defaultdict(list)
    for key in keys:
        by_shard[SHARDS + shard_of(key)].append(key)  # out of the claims of relays that cannot render it
    if not by_shard:
        return
    trace_context = current_trace_context()
    await session.execute(
        insert(outbox_event),
        [
            {
                "event_id": new_event_id(),  # the row's own, never published: each of its events has its own
                "topic": topic,
                "key": shard_keys[0],
                "shard": shard,
                "payload": {"keys": shard_keys, "details": dict(details)},
                "renderer": renderer,
                "trace_context": trace_context,
            }
            for shard, shard_keys in sorted(by_shard.items())
        ],
    )


def rows_query() -> Select[Any]:
    """Outbox rows as the relay reads them, for :func:`rendered` (filter, order and lock it as needed)."""
    return select(
        outbox_event.c.id,
        outbox_event.c.event_id,
        outbox_event.c.topic,
        outbox_event.c.key,
        outbox_event.c.shard,
        # as stored text: published byte for byte, without a decode/encode round trip
        outbox_event.c.payload.cast(Text).label("payload"),
        outbox_event.c.renderer,
        # NULL rather than {} for untraced events: nothing to decode
        func.nullif(outbox_event.c.trace_context, cast({}, JSONB)).label("trace_context"),
        outbox_event.c.created_at,
    )


async def rendered(connection: AsyncConnection, row: Any, renderers: Mapping[str, Renderer]) -> Sequence[Message]:
    """The events an outbox row (as the relay claims it: ``payload`` as text) publishes: its own, or its renderer's."""
    if row.renderer is None:
        return [Message(row.event_id, row.key, row.payload)]
    render = renderers.get(row.renderer)
    if render is None:  # the relay holds up this row's shard (loudly) until one that has the renderer takes it
        raise LookupError(f"outbox row {row.id} needs the renderer {row.renderer!r}, which this relay does not have")
    reference = json.loads(row.payload)
    messages = await render(connection, Deferred(row.topic, reference["keys"], reference["details"]))
    if [message.key for message in messages] != reference["keys"]:
        # another key could belong to another shard, which another relay publishes: per-key order would break
        raise ValueError(f"renderer {row.renderer!r} did not write one event per key of outbox row {row.id}")
    return messages


#: What a broker or database outage raises: retried with a warning.
_TRANSIENT = (KafkaError, OSError, DBAPIError, OperationalError, TimeoutError)


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class OutboxRelay:
    """Publishes committed outbox rows to Kafka; safe to run several at once."""

    def __init__(
        self,
        engine: AsyncEngine,
        kafka: KafkaSettings,
        *,
        service: str,
        listen_dsn: str | None = None,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        producer: AIOKafkaProducer | None = None,
        renderers: Mapping[str, Renderer] | None = None,
    ) -> None:
        self.engine = engine
        #: The service's renderers of deferred events, by name (``add_deferred``).
        self.renderers = dict(renderers or {})
        self.kafka = kafka
        self.service = service
        self.listen_dsn = listen_dsn
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        #: How long one pass waits for the broker to acknowledge what it sent.
        self.ack_timeout = 3 * kafka.request_timeout_ms / 1000
        self._given_producer = producer
        self._given_started = False
        self._producer: AIOKafkaProducer | None = None
        self._known_topics: set[str] = set()
        self._wake = asyncio.Event()
        #: Whether the last pass found nothing more to publish (then the relay waits for a commit or the poll).
        self._caught_up = True
        #: Rows that could not be rendered, by id: when they were last logged.
        self._render_failures: dict[int, float] = {}
        self._pending_updated = 0.0

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            if self._given_producer is not None:
                # Its owner's: started once (a second start() would run a second sender on the same producer),
                # reconnected by aiokafka itself after a failure, and stopped by its owner.
                if not self._given_started:
                    await start_client(self._given_producer)
                    self._given_started = True
                self._producer = self._given_producer
                return self._producer
            producer = create_producer(self.kafka, client_id=f"{self.service}-relay")
            # Held before start() so that a failed or cancelled start is still stopped (no leaked connections).
            self._producer = producer
            try:
                await start_client(producer)
            except BaseException:
                await self._reset_producer()
                raise
        return self._producer

    async def _reset_producer(self) -> None:
        """After a failure, start over: a restarted broker may have lost topics and connections.

        The old producer gets a bounded time to stop: its flush of batches a vanished broker will never take can
        outlast a broker's restart, and the relay must not wait for it (those rows are unmarked, so nothing is
        lost: the new producer publishes them again).
        """
        self._known_topics.clear()
        producer, self._producer = self._producer, None
        if producer is not None and producer is not self._given_producer:
            try:
                await asyncio.wait_for(producer.stop(), self.kafka.request_timeout_ms / 1000 + 1)
            except TimeoutError:
                logger.warning("outbox relay abandoned a producer that did not stop in time")
            except Exception as error:  # a failed producer may fail to stop too; it is dropped all the same
                logger.debug("stopping a failed producer failed: %r", error)

    async def run(self) -> None:
        """Relay until cancelled, backing off on broker or database errors."""
        listener = asyncio.create_task(self._listen()) if self.listen_dsn else None
        try:
            while True:
                # Cleared before the pass, so a commit that lands during the pass still wakes the next one.
                self._wake.clear()
                await self._pass_with_backoff()
                if self._caught_up:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _pass_with_backoff(self) -> int:
        async for attempt in AsyncRetrying(
            wait=wait_exponential_jitter(multiplier=0.1, max=5.0),
            # Every error: a relay that stopped would leave every later event unpublished, silently.
            retry=retry_if_exception_type(Exception),
            before_sleep=self._log_retry,
            reraise=True,
        ):
            with attempt:
                return await self.relay_once()
        raise AssertionError("unreachable: AsyncRetrying either returns or raises")

    async def _log_retry(self, state: Any) -> None:
        PUBLISH_ERRORS.labels(self.service).inc()
        await self._reset_producer()
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _TRANSIENT):
            logger.warning("outbox relay pass failed, retrying: %r", error)
        else:  # not an outage: a bug, or a broker answer we do not expect; the trace says which
            logger.error("outbox relay pass failed unexpectedly, retrying: %r", error, exc_info=error)

    async def relay_once(self) -> int:
        """Claim, publish and mark up to ``PIPELINE`` batches of events in one transaction; returns how many events.

        Bounded by events, not rows (a deferred row stands for many): the rows claimed beyond the bound are neither
        published nor marked, and the next pass starts with them, so per-key order holds.
        """
        producer = await self._ensure_producer()
        claimed: list[Any] = []
        limit = self.batch_size * PIPELINE
        self._caught_up = True
        async with self.engine.begin() as connection:
            # Every shard no other relay holds; a relay running alone holds them all. Its deferred rows are stored
            # under SHARDS + shard (see the module docstring).
            held = list(await connection.scalars(_CLAIM_SHARDS, {"namespace": _LOCK_NAMESPACE, "last": SHARDS - 1}))
            shards = [*held, *(SHARDS + shard for shard in held)]
            deliveries: list[Any] = []
            after = 0
            while shards:
                if len(deliveries) >= limit:
                    self._caught_up = False
                    break
                rows = (await connection.execute(self._claim_query(shards, after=after))).all()
                # Sent without waiting for acknowledgements: the next batch is read while these are in flight.
                sent, blocked, cut = await self._send_all(
                    connection, producer, rows, deliveries, room=limit - len(deliveries)
                )
                claimed.extend(sent)
                if blocked:  # a row these shards could not render: nothing after it in them this pass
                    shards = [shard for shard in shards if shard % SHARDS not in blocked]
                if cut:
                    self._caught_up = False
                    break
                if len(rows) < self.batch_size:
                    break
                after = rows[-1].id
            if claimed:
                # Shielded: cancelling aiokafka's delivery futures breaks its sender, and stop() then waits forever.
                # Bounded: an idempotent aiokafka producer never expires a batch, it retries it without end (for
                # a topic the broker no longer has, say), so a pass that waits too long fails, and the retry starts
                # over with a new producer that provisions the topics again. Nothing is marked, so nothing is lost.
                acknowledged = asyncio.gather(*deliveries)
                acknowledged.add_done_callback(_retrieved)  # its failure after a timeout is not an error to log
                await asyncio.wait_for(asyncio.shield(acknowledged), self.ack_timeout)
                self._acknowledged(claimed, len(deliveries))
                await connection.execute(
                    update(outbox_event)
                    # one array parameter rather than thousands of IN parameters
                    .where(outbox_event.c.id == any_(cast([row.id for row in claimed], ARRAY(BigInteger))))
                    .values(published_at=func.now(), attempts=outbox_event.c.attempts + 1)
                )
        if time.monotonic() - self._pending_updated > PENDING_REFRESH_SECONDS:
            await self._update_pending()
        return len(deliveries)

    def _claim_query(self, shards: list[int], *, after: int) -> Select[Any]:
        return (
            rows_query()
            .where(
                outbox_event.c.published_at.is_(None),
                outbox_event.c.shard.in_(shards),
                outbox_event.c.id > after,
            )
            .order_by(outbox_event.c.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        )

    async def _send_all(
        self,
        connection: AsyncConnection,
        producer: AIOKafkaProducer,
        rows: Sequence[Any],
        deliveries: list[Any],
        *,
        room: int,
    ) -> tuple[list[Any], set[int], bool]:
        """Hand the events of ``rows`` to the producer, in order, until ``room`` events are in flight.

        Their delivery futures go to ``deliveries``. Returns the rows sent; the shards held up by a row that could not
        be rendered (it, and every later row of its shard, stay unsent); and whether the room ran out before the end.
        """
        topics = {row.topic for row in rows} - self._known_topics
        if topics:
            await ensure_topics(self.kafka, topics, client_id=f"{self.service}-relay")
            self._known_topics |= topics
        sent: list[Any] = []
        blocked: set[int] = set()
        for row in rows:
            if sent and room <= 0:
                return sent, blocked, True
            if row.shard % SHARDS in blocked:
                continue
            try:
                messages = await rendered(connection, row, self.renderers)
            except Exception as error:  # only a deferred row's renderer can fail: this row's shard waits
                self._render_failed(row, error)
                blocked.add(row.shard % SHARDS)
                continue
            if row.renderer is not None:
                self._render_failures.pop(row.id, None)
            futures = await self._send(producer, row, messages)
            deliveries.extend(futures)
            room -= len(futures)
            sent.append(row)
        return sent, blocked, False

    def _render_failed(self, row: Any, error: Exception) -> None:
        """Count and log a row that could not be rendered; each row at most once a minute at ERROR."""
        RENDER_ERRORS.labels(self.service).inc()
        now = time.monotonic()
        if now - self._render_failures.get(row.id, -RENDER_LOG_SECONDS) >= RENDER_LOG_SECONDS:
            self._render_failures[row.id] = now
            logger.error(
                "outbox row %d (renderer %r) could not be rendered; its shard waits: %r",
                row.id,
                row.renderer,
                error,
                exc_info=error,
            )

    def _acknowledged(self, rows: Sequence[Any], events: int) -> None:
        # One observation per batch, of its oldest event: the worst latency in it, at a fraction of the cost. Deferred
        # rows are left out: their time is their bulk load's start, not their commit.
        created = [row.created_at for row in rows if row.renderer is None]
        if created:
            LATENCY.labels(self.service).observe(max(0.0, time.time() - min(created).timestamp()))
        PUBLISHED.labels(self.service).inc(events)

    async def _send(self, producer: AIOKafkaProducer, row: Any, messages: Sequence[Message]) -> list[Any]:
        """Hand the events of one row to the producer; returns their delivery futures."""
        if not row.trace_context:  # written outside any trace: nothing to continue
            headers = list(_HEADERS)
            return [
                await producer.send(row.topic, key=key.encode(), value=payload.encode(), headers=headers)
                for _, key, payload in messages
            ]
        with _tracer.start_as_current_span(
            f"{row.topic} publish", context=context_from_headers(row.trace_context), kind=trace.SpanKind.PRODUCER
        ) as span:
            span.set_attribute("messaging.system", "kafka")
            span.set_attribute("messaging.destination.name", row.topic)
            if row.renderer is None:
                span.set_attribute("messaging.message.id", row.event_id)
            else:
                span.set_attribute("messaging.batch.message_count", len(messages))
            headers = [*_HEADERS, *((name, value.encode()) for name, value in current_trace_context().items())]
            return [
                await producer.send(row.topic, key=key.encode(), value=payload.encode(), headers=headers)
                for _, key, payload in messages
            ]

    async def _update_pending(self) -> None:
        async with self.engine.connect() as connection:
            pending = await connection.scalar(
                select(func.count()).select_from(outbox_event).where(outbox_event.c.published_at.is_(None))
            )
        PENDING.labels(self.service).set(pending or 0)
        self._pending_updated = time.monotonic()

    async def _listen(self) -> None:
        """Wake the relay on NOTIFY; reconnect when the database goes away."""
        assert self.listen_dsn is not None
        while True:
            try:
                connection = await asyncpg.connect(self.listen_dsn)
                try:
                    await connection.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
                    while not connection.is_closed():
                        await asyncio.sleep(1)
                finally:
                    await connection.close()
            except (OSError, asyncpg.PostgresError) as error:
                logger.warning("outbox listener reconnecting: %r", error)
                await asyncio.sleep(1)

    async def stop(self, timeout: float = 15.0) -> None:
        """Stop the producer, flushing what is in flight (the ``run`` task is cancelled by its owner)."""
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), timeout)
            except TimeoutError:
                # Unmarked rows stay pending and are published again by the next relay: nothing is lost.
                logger.warning("outbox relay producer did not stop within %.0f s", timeout)
