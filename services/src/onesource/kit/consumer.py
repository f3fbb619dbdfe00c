"""Consumer helper: a consumer group whose handlers are idempotent and whose offsets follow the effect.

For every message: open a transaction, record the event id in ``handled_event`` (a duplicate is skipped),
run the handler in that same transaction, commit, and only then commit the Kafka offset (once per partition of
a fetched batch). A crash between the commits redelivers the messages, and the recorded ids turn the redelivery
into no-ops.
A message that keeps failing goes to the dead-letter topic with the error, and consumption goes on. A failure
because the database is unreachable (restarting, its connections cut) is no fault of the message: it is tried again
until the database answers, however long that takes, and never dead-lettered.
A member stuck joining its group (see :func:`poll`) is stopped and started afresh, as any other stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from opentelemetry import trace
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onesource.kit.events import CloudEvent
from onesource.kit.kafka import create_producer, ensure_topics, start_client
from onesource.kit.settings import KafkaSettings
from onesource.kit.tables import handled_event
from onesource.kit.telemetry import context_from_headers, tracer

logger = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]

#: Text, so that it is compiled once: SQLAlchemy compiles a PostgreSQL ``INSERT … ON CONFLICT`` construct on every
#: execution (it has no cache key), and this runs for every event.
_RECORD_HANDLED = text(
    f"INSERT INTO {handled_event.name} (consumer, event_id) VALUES (:consumer, :event_id)"
    " ON CONFLICT DO NOTHING RETURNING event_id"
)
HANDLED = Counter("onesource_consumer_handled_total", "Events handled", ["consumer", "outcome"])

_tracer = tracer(__name__)


def dead_letter_topic(consumer: str) -> str:
    """Where a consumer's poison messages go."""
    return f"onesource.dlq.{consumer}"


#: What an unreachable database raises: refused or dropped connections, a server starting or shutting down
#: (SQLSTATE classes 08 and 57), a connection closed under the driver.
_OUTAGES = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InterfaceError,
)
#: The longest wait between tries while the database is unreachable.
OUTAGE_BACKOFF_MAX_SECONDS = 5.0
#: The longest wait before a stopped consumer starts again; a run that lasted this long starts the count afresh.
RESTART_MAX_SECONDS = 10.0
RESTART_RESET_SECONDS = 60.0


class StalledJoin(RuntimeError):
    """The member has been joining its group for longer than any join takes (see :func:`poll`)."""


async def poll(consumer: AIOKafkaConsumer, limit: float) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
    """``consumer.getmany`` (up to 500 records, waiting up to 1 s for them), or :class:`StalledJoin` after ``limit`` s.

    While its group rebalances, aiokafka's ``getmany`` waits for the new assignment without a timeout. A join can
    fail to end (a member restarted after a kill, its join pending while the killed member's session runs out, the
    broker cut off meanwhile): the member would wait for ever, no error raised, its partitions' events unhandled,
    in a process answering ready. A new member heals it, so the wait is bounded: the run stops and ``run_forever``
    starts it again. A member assigned nothing (more members than partitions) is not waiting: its ``getmany``
    returns empty after 1 s.

    The wait is counted in seconds the event loop ran, a second at a time: a loop held up elsewhere (a test between
    its awaits, a process paused) is no join's fault, and counting it would restart healthy consumers.
    """
    loop = asyncio.get_running_loop()
    fetch = asyncio.ensure_future(consumer.getmany(timeout_ms=1000, max_records=500))
    waited = 0.0
    try:
        while True:
            began = loop.time()
            done, _ = await asyncio.wait({fetch}, timeout=1.0)
            if done:
                batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = fetch.result()
                return batches
            waited += min(loop.time() - began, 2.0)
            if waited > limit:
                raise StalledJoin(f"waited {waited:.0f} s for the group's assignment")
    finally:
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetch


#: How long a join may take, in session timeouts: the coordinator waits up to one rebalance timeout (a session
#: timeout, aiokafka's default) for the other members, a dead member's session runs out, a retry follows.
JOIN_LIMIT_SESSIONS = 6
#: And at least this long, so that a short test session timeout does not make ordinary joins look stalled.
JOIN_LIMIT_MIN_SECONDS = 30.0


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database is unreachable rather than that the handler failed on this message."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    seen: BaseException | None = error
    for _ in range(5):  # SQLAlchemy wraps the driver's error; asyncpg's own may wrap the socket's
        if seen is None:
            return False
        if isinstance(seen, _OUTAGES):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False


class EventConsumer:
    """Consume topics as group ``name``; run ``handler`` once per event id, in a transaction."""

    def __init__(
        self,
        *,
        name: str,
        topics: list[str],
        kafka: KafkaSettings,
        sessionmaker: async_sessionmaker[AsyncSession],
        handler: Handler,
        max_attempts: int = 5,
        retry_seconds: float = 0.2,
        join_limit_seconds: float | None = None,
    ) -> None:
        self.name = name
        self.topics = topics
        self.kafka = kafka
        self.sessionmaker = sessionmaker
        self.handler = handler
        self.max_attempts = max_attempts
        self.retry_seconds = retry_seconds
        #: A join longer than this is a stall (see :func:`poll`).
        self.join_limit_seconds = join_limit_seconds or max(
            JOIN_LIMIT_MIN_SECONDS, JOIN_LIMIT_SESSIONS * kafka.session_timeout_ms / 1000
        )

    async def run(self) -> None:
        """Consume until cancelled."""
        await ensure_topics(self.kafka, [*self.topics, dead_letter_topic(self.name)], client_id=self.name)
        consumer = self.new_member()
        dead_letters = create_producer(self.kafka, client_id=f"{self.name}-dlq")
        try:
            await start_client(consumer)
            await start_client(dead_letters)
            consumer.subscribe(topics=self.topics)  # after the start, which would wait for the assignment unbounded
            while True:
                await self.handle_batches(consumer, await poll(consumer, self.join_limit_seconds), dead_letters)
        finally:
            await consumer.stop()
            await dead_letters.stop()

    async def handle_batches(
        self,
        consumer: AIOKafkaConsumer,
        batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
        dead_letters: AIOKafkaProducer,
    ) -> None:
        """Process each message of ``batches``, then commit each partition's offset.

        Once per partition and batch, not per message: a message handled again after a crash or rebalance is a
        duplicate the handled_event table skips.
        """
        for partition, messages in batches.items():
            for message in messages:
                await self._process(message, dead_letters)
            try:
                await consumer.commit({partition: messages[-1].offset + 1})
            except (CommitFailedError, IllegalStateError) as error:
                # A rebalance gave the partition to another member meanwhile: it goes on from the last committed
                # offset, and what was handled here since is a duplicate there. No reason to stop this member.
                logger.info(
                    "consumer %s: offset of %s not committed after a rebalance: %r", self.name, partition, error
                )

    def new_member(self) -> AIOKafkaConsumer:
        """A group member, not yet started or subscribed, whose offsets are committed by hand."""
        return AIOKafkaConsumer(
            bootstrap_servers=self.kafka.bootstrap,
            group_id=self.name,
            client_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.kafka.session_timeout_ms,
            heartbeat_interval_ms=self.kafka.heartbeat_interval_ms,
        )

    async def run_forever(self) -> None:
        """:meth:`run`, started again after whatever ends it but cancellation.

        An error outside a message's handling (a commit while the broker is cut off, a query while the database
        restarts) ends ``run``; a consumer that stayed stopped would leave every later event unhandled, silently,
        in a process that still answers ready. The offsets are committed after each effect, so a new ``run``
        resumes where the last left off.
        """
        failures = 0
        while True:
            started = time.monotonic()
            try:
                await self.run()
                return
            except Exception as error:
                failures = 1 if time.monotonic() - started > RESTART_RESET_SECONDS else failures + 1
                delay = min(RESTART_MAX_SECONDS, 0.5 * 2 ** (failures - 1))
                logger.error("consumer %s stopped: %r; starting it again in %.1f s", self.name, error, delay)
                await asyncio.sleep(delay)

    async def _process(self, message: ConsumerRecord[bytes, bytes], dead_letters: AIOKafkaProducer) -> None:
        parent = context_from_headers(message.headers)
        with _tracer.start_as_current_span(
            f"{message.topic} process", context=parent, kind=trace.SpanKind.CONSUMER
        ) as span:
            span.set_attribute("messaging.system", "kafka")
            span.set_attribute("messaging.consumer.group.name", self.name)
            try:
                event = CloudEvent.model_validate_json(message.value or b"")
            except ValidationError as error:
                await self._dead_letter(message, dead_letters, f"not a CloudEvent: {error}")
                return
            attempt, outages = 1, 0
            while attempt <= self.max_attempts:
                try:
                    outcome = await self.handle(event)
                except Exception as error:  # a handler bug or outage must not stop the group
                    if is_outage(error):
                        # Not the message's fault: wait for the database rather than dead-letter the event (its
                        # partition waits too, so later events keep their order behind it).
                        outages += 1
                        logger.warning("database unavailable (try %d) for event %s: %r", outages, event.id, error)
                        delay = min(OUTAGE_BACKOFF_MAX_SECONDS, self.retry_seconds * 2 ** min(outages, 8))
                        await asyncio.sleep(delay)
                        continue
                    logger.warning(
                        "handler failed (attempt %d/%d) for event %s: %r",
                        attempt,
                        self.max_attempts,
                        event.id,
                        error,
                    )
                    if attempt == self.max_attempts:
                        await self._dead_letter(message, dead_letters, repr(error))
                        return
                    await asyncio.sleep(self.retry_seconds * 2 ** (attempt - 1))
                    attempt += 1
                else:
                    HANDLED.labels(self.name, outcome).inc()
                    return

    async def handle(self, event: CloudEvent) -> str:
        """Run the handler once for this event id; returns ``handled`` or ``duplicate``."""
        async with self.sessionmaker() as session, session.begin():
            recorded = await session.execute(_RECORD_HANDLED, {"consumer": self.name, "event_id": event.id})
            if recorded.first() is None:
                return "duplicate"
            await self.handler(session, event)
        return "handled"

    async def _dead_letter(
        self, message: ConsumerRecord[bytes, bytes], producer: AIOKafkaProducer, reason: str
    ) -> None:
        HANDLED.labels(self.name, "dead-lettered").inc()
        logger.error("dead-lettering message %s[%d]@%d: %s", message.topic, message.partition, message.offset, reason)
        headers = [
            *(message.headers or ()),
            ("onesource-error", reason[:1000].encode()),
            ("onesource-original", json.dumps([message.topic, message.partition, message.offset]).encode()),
        ]
        delivery = await producer.send(
            dead_letter_topic(self.name), key=message.key, value=message.value, headers=list(headers)
        )
        await asyncio.shield(delivery)  # a cancelled aiokafka delivery future breaks the producer's sender
