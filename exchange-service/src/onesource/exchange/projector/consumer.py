"""The projector process: a consumer group over the source topics of the catalog's resources.

It is the kit's idempotent consumer (handled ids recorded in the effect's transaction, offsets committed after
it, dead letters), with two differences: the topics come from the catalog read model and are re-read while it
runs, and the handler needs the topic a message came from. Per-key order holds because a record's events share
a partition, which one member processes in offset order; a restart resumes after the last committed offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer, ConsumerRecord
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onesource.exchange.projector import repository, service
from onesource.exchange.resources import repository as resources
from onesource.kit.consumer import EventConsumer, dead_letter_topic, poll
from onesource.kit.events import CloudEvent
from onesource.kit.kafka import create_producer, ensure_topics, start_client
from onesource.kit.settings import KafkaSettings

logger = logging.getLogger(__name__)

PROJECTOR_GROUP = "exchange-projector"


class Projector(EventConsumer):
    """Masks each source event to every entitled subscription (see :func:`service.project`)."""

    def __init__(
        self,
        *,
        kafka: KafkaSettings,
        sessionmaker: async_sessionmaker[AsyncSession],
        refresh_seconds: float = 5.0,
        name: str = PROJECTOR_GROUP,
    ) -> None:
        super().__init__(name=name, topics=[], kafka=kafka, sessionmaker=sessionmaker, handler=self._project)
        self.refresh_seconds = refresh_seconds
        # The topic of the message being handled: messages are handled one at a time, and the kit's handler
        # signature carries only the event.
        self._topic = ""
        self._horizon: datetime | None = None
        """Events made before this moment reach no subscription (see :meth:`handle`); ``None`` until read."""

    async def handle(self, event: CloudEvent) -> str:
        """The kit's handling, except for an event made before every subscription: no transaction, nothing recorded.

        A subscription receives the changes made from its creation on, so such an event is delivered to nobody,
        whenever it is handled: a new subscription is created later still. This is what lets a projector behind by
        the thousands of events a registry's bulk load made get to the first subscribed change quickly.
        """
        if self._horizon is not None and service.aware(event.time) < self._horizon:
            return "before-every-subscription"
        return await super().handle(event)

    async def _process(self, message: ConsumerRecord[bytes, bytes], dead_letters: AIOKafkaProducer) -> None:
        self._topic = message.topic
        await super()._process(message, dead_letters)

    async def _project(self, session: AsyncSession, event: CloudEvent) -> None:
        await service.project(session, self._topic, event, datetime.now(UTC))

    async def source_topics(self) -> list[str]:
        """The source topics of the catalog's published resources.

        Read with them: the horizon of :meth:`handle` (the earliest subscription's creation, or now if none).
        """
        async with self.sessionmaker() as session:
            self._horizon = await repository.subscription_horizon(session)
            return list(await resources.source_topics(session))

    async def run(self) -> None:
        """Consume until cancelled, following the read model's topics."""
        await ensure_topics(self.kafka, [dead_letter_topic(self.name)], client_id=self.name)
        consumer = self.new_member()
        dead_letters = create_producer(self.kafka, client_id=f"{self.name}-dlq")
        subscribed: list[str] = []
        refreshed = float("-inf")
        try:
            await start_client(consumer)
            await start_client(dead_letters)
            while True:
                if time.monotonic() - refreshed >= self.refresh_seconds:
                    refreshed = time.monotonic()
                    wanted = await self.source_topics()
                    if wanted != subscribed:
                        await ensure_topics(self.kafka, wanted, client_id=self.name)
                        if wanted:
                            consumer.subscribe(topics=wanted)
                        else:
                            consumer.unsubscribe()
                        subscribed = wanted
                        logger.info("projector follows %s", wanted)
                if not subscribed:
                    await asyncio.sleep(min(self.refresh_seconds, 1.0))
                    continue
                await self.handle_batches(consumer, await poll(consumer, self.join_limit_seconds), dead_letters)
        finally:
            await consumer.stop()
            await dead_letters.stop()


class ProjectorRunner:
    """Starts and stops the projector task (the app runs one; tests stop and restart it)."""

    def __init__(self, projector: Projector) -> None:
        self.projector = projector
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start consuming in the background."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.projector.run_forever(), name=self.projector.name)

    async def stop(self) -> None:
        """Stop consuming (as abruptly as a crash between messages: nothing after the last commit is kept)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


@asynccontextmanager
async def projector(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan step: run the projector on ``app.state.projector`` while the app runs."""
    settings = app.state.settings
    runner = ProjectorRunner(
        Projector(
            kafka=settings.kafka,
            sessionmaker=app.state.sessionmaker,
            refresh_seconds=settings.projector_refresh_seconds,
        )
    )
    app.state.projector = runner
    runner.start()
    try:
        yield
    finally:
        await runner.stop()
