"""Keeping each gateway process's resource and grant caches exact, with any number of gateway processes.

- **Tables, once.** One consumer group (``read_model_group``), shared by every gateway process on the database,
  consumes the catalog's resource and registry topics and the exchange's grant topic with the kit's
  :class:`EventConsumer`: each event is applied to ``catalog_resource`` / ``catalog_registry`` / ``access_grant``
  in the transaction that records its id in the inbox (so a redelivery is a no-op), and its offset is committed
  after. Kafka gives each partition to one member, so each event is written once, by whichever process holds its
  partition.
- **Memory, in every process.** That same transaction sends ``NOTIFY onesource_gateway_read_models,
  '<kind>:<id>'``. PostgreSQL delivers a notification only when its transaction commits, and to every listening
  session: every gateway process LISTENs, re-reads the changed row by id and updates its in-memory index. So every
  process sees every committed change, whichever process consumed it, moments after the commit — and the data
  path never reads the database.
- **Nothing missed.** A process LISTENs *before* it loads the tables in full, so a change is either in the load or
  notified after it. Notifications and loads are applied by one task in arrival order, each reading the rows as
  committed at that moment, so an older read never overwrites a newer one. While the listening connection is down
  (or a re-read failed) the process does not trust its caches; it trusts them again once it listens and has
  reloaded. A full reload every ``read_model_reload_seconds`` is a safety net and drops grants past validity.
- **Fail closed until caught up.** At start-up the process notes the end offsets of the topics and watches the
  group's committed offsets; once they reach those ends (every event that existed when it started is in the
  tables), it reloads and trusts the cache of that topic (resources need the registries' owners too). Until then,
  data calls ask the exchange and the catalog (:mod:`onesource.gateway.forwarding.fallback`) or get 503
  ``grants-unknown``.

Why not a consumer group per process: every new process would replay the topics into the tables, one
transaction per event, and leave its own inbox rows behind. Why not periodic reloads alone: a revocation must stop
data calls at once, not a reload period later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from onesource.gateway.grants import repository as grant_rows
from onesource.gateway.grants import service as grants
from onesource.gateway.grants.index import GrantIndex
from onesource.gateway.grants.schemas import GRANT_TOPIC
from onesource.gateway.registries import repository as registry_rows
from onesource.gateway.registries import service as registries
from onesource.gateway.registries.schemas import REGISTRY_TOPIC
from onesource.gateway.resources import repository as resource_rows
from onesource.gateway.resources import service as resources
from onesource.gateway.resources.matching import ResourceIndex
from onesource.gateway.resources.schemas import RESOURCE_TOPIC
from onesource.gateway.settings import Settings
from onesource.kit.app import background
from onesource.kit.consumer import EventConsumer
from onesource.kit.db import sessionmaker_for
from onesource.kit.events import CloudEvent
from onesource.kit.kafka import ensure_topics, start_client

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "onesource_gateway_read_models"
TOPICS = (RESOURCE_TOPIC, GRANT_TOPIC, REGISTRY_TOPIC)
_RESOURCE = "resource"
_GRANT = "grant"
_REGISTRY = "registry"
#: How often the listening connection is checked, and the catch-up progress polled.
_KEEPALIVE_SECONDS = 1.0
_POLL_SECONDS = 0.2
_MAX_BACKOFF_SECONDS = 5.0


async def apply_event(session: AsyncSession, event: CloudEvent) -> None:
    """Consumer handler: fold a resource, registry or grant event into its table and notify every process of it."""
    if event.type in resources.EVENT_TYPES:
        kind, changed = _RESOURCE, await resources.apply_event(session, event)
    elif event.type in registries.EVENT_TYPES:
        kind, changed = _REGISTRY, await registries.apply_event(session, event)
    else:
        kind, changed = _GRANT, await grants.apply_event(session, event)
    if changed is not None:
        # Delivered by PostgreSQL at commit, to every listener: each gateway process re-reads the row.
        await session.execute(select(func.pg_notify(NOTIFY_CHANNEL, f"{kind}:{changed}")))


class ReadModels:
    """The caches of this process, and whether they can be trusted for a data call now."""

    def __init__(self) -> None:
        self.resources = ResourceIndex()
        self.grants = GrantIndex()
        self.caught_up: dict[str, bool] = dict.fromkeys(TOPICS, False)
        """Per topic: every event that existed at start-up is in the cache."""
        self.in_sync = False
        """The process listens for changes and its last re-read succeeded."""

    @property
    def resources_known(self) -> bool:
        """Whether the resource cache may answer which resources cover a path (it needs the registries' owners)."""
        return self.in_sync and self.caught_up[RESOURCE_TOPIC] and self.caught_up[REGISTRY_TOPIC]

    @property
    def grants_known(self) -> bool:
        """Whether the grant cache may answer which grants a department holds."""
        return self.in_sync and self.caught_up[GRANT_TOPIC]


@dataclass(frozen=True, slots=True)
class _Reload:
    done: asyncio.Future[None] | None = None
    """Resolved once the reload is applied (``None``: nobody waits for it)."""


_Change = tuple[str, str]  # (kind, id)


class ReadModelSync:
    """Runs the shared consumer, the listener, the applier and the catch-up watch of one process."""

    def __init__(self, read_models: ReadModels, engine: AsyncEngine, settings: Settings) -> None:
        self.read_models = read_models
        self.settings = settings
        # Its own sessions on the engine, never the request sessionmaker (tests bind that to one shared connection).
        self.sessionmaker = sessionmaker_for(engine)
        self.dsn = settings.database_url.get_secret_value().replace("postgresql+asyncpg://", "postgresql://", 1)
        self._queue: asyncio.Queue[_Change | _Reload] = asyncio.Queue()
        self._listening = False
        self._failed = False

    async def run(self) -> None:
        """Keep the caches until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._apply(), name="gateway-read-models-apply")
            tasks.create_task(self._listen(), name="gateway-read-models-listen")
            tasks.create_task(self._retrying("consumer", self._consume), name="gateway-read-models-consume")
            tasks.create_task(self._retrying("catch-up", self._catch_up), name="gateway-read-models-catch-up")
            tasks.create_task(self._reload_periodically(), name="gateway-read-models-reload")

    async def reload(self) -> None:
        """Reload both caches from the tables, after every change already notified; raises when it failed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Reload(done))
        await done

    def _update_trust(self) -> None:
        self.read_models.in_sync = self._listening and not self._failed

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        kind, _, identifier = payload.partition(":")
        self._queue.put_nowait((kind, identifier))

    async def _apply(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            reloads = [item for item in batch if isinstance(item, _Reload)]
            changes = [item for item in batch if not isinstance(item, _Reload)]
            try:
                # A full load reads every row as committed now, which includes every change notified before it.
                await (self._load_all() if reloads else self._refresh(changes))
            except Exception as error:  # keep going: a failed re-read is healed by the next reload
                logger.warning("could not update the read model caches: %r", error)
                self._failed = True
                self._update_trust()
                for reload in reloads:
                    if reload.done is not None and not reload.done.done():
                        reload.done.set_exception(error)
                # A change may be lost: load everything again shortly, until a load succeeds.
                asyncio.get_running_loop().call_later(_KEEPALIVE_SECONDS, self._queue.put_nowait, _Reload())
                continue
            if reloads:
                self._failed = False
                self._update_trust()
            for reload in reloads:
                if reload.done is not None and not reload.done.done():
                    reload.done.set_result(None)

    async def _load_all(self) -> None:
        async with self.sessionmaker() as session:
            resource_rows_now = await resource_rows.published(session)
            registry_rows_now = await registry_rows.every(session)
            grant_rows_now = await grant_rows.active(session, datetime.now(UTC))
        self.read_models.resources.replace(
            (entry for entry in map(resources.entry, resource_rows_now) if entry is not None),
            {row.service: row.owner for row in registry_rows_now},
        )
        self.read_models.grants.replace(entry for entry in map(grants.entry, grant_rows_now) if entry is not None)
        logger.debug(
            "read models loaded: %d resources, %d grants", len(self.read_models.resources), len(self.read_models.grants)
        )

    async def _refresh(self, changes: list[_Change]) -> None:
        resource_ids = {identifier for kind, identifier in changes if kind == _RESOURCE}
        grant_ids = {identifier for kind, identifier in changes if kind == _GRANT}
        services = {identifier for kind, identifier in changes if kind == _REGISTRY}
        async with self.sessionmaker() as session:
            owners = {row.service: row.owner for row in await registry_rows.by_services(session, services)}
            resource_found = (
                {row.id: row for row in await resource_rows.by_ids(session, resource_ids)} if resource_ids else {}
            )
            grant_found = {row.id: row for row in await grant_rows.by_ids(session, grant_ids)} if grant_ids else {}
        for resource_id in resource_ids:
            row = resource_found.get(resource_id)
            self.read_models.resources.put(resource_id, resources.entry(row) if row is not None else None)
        for service in services:
            self.read_models.resources.own(service, owners.get(service))
        for grant_id in grant_ids:
            grant_row = grant_found.get(grant_id)
            self.read_models.grants.put(grant_id, grants.entry(grant_row) if grant_row is not None else None)

    async def _listen(self) -> None:
        backoff = _POLL_SECONDS
        while True:
            connection: asyncpg.Connection | None = None
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(self.dsn)
                connection.add_termination_listener(lambda _, lost=lost: lost.set())
                await connection.add_listener(NOTIFY_CHANNEL, self._notified)
                await self.reload()  # after LISTEN: whatever commits from now on is notified
                self._listening = True
                self._update_trust()
                backoff = _POLL_SECONDS
                while True:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), _KEEPALIVE_SECONDS)
                    if lost.is_set():
                        raise ConnectionError("the listening connection closed")
                    # A silently dropped connection shows only when used.
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), _KEEPALIVE_SECONDS * 5)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # reconnect; until then the caches are not trusted
                logger.warning("read model listener reconnecting: %r", error)
            finally:
                self._listening = False
                self._update_trust()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=1.0)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)

    async def _consume(self) -> None:
        consumer = EventConsumer(
            name=self.settings.read_model_group,
            topics=list(TOPICS),
            kafka=self.settings.kafka,
            sessionmaker=self.sessionmaker,
            handler=apply_event,
        )
        await consumer.run()

    async def _catch_up(self) -> None:
        ends = await self._offsets_to_reach()
        watcher = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka.bootstrap,
            group_id=self.settings.read_model_group,  # never subscribes: it only reads the group's committed offsets
            client_id=f"{self.settings.read_model_group}-watch",
            enable_auto_commit=False,
        )
        try:
            await start_client(watcher)
            pending = [topic for topic in TOPICS if not self.read_models.caught_up[topic]]
            while pending:
                for topic in list(pending):
                    if await _reached(watcher, ends[topic]):
                        await self.reload()
                        self.read_models.caught_up[topic] = True
                        pending.remove(topic)
                        logger.info("read model of %s caught up", topic)
                if pending:
                    await asyncio.sleep(_POLL_SECONDS)
        finally:
            await watcher.stop()

    async def _offsets_to_reach(self) -> dict[str, dict[TopicPartition, int]]:
        """Per topic and partition: the end offset now, or nothing to reach when the partition holds no message."""
        await ensure_topics(self.settings.kafka, TOPICS, client_id=self.settings.read_model_group)
        probe = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka.bootstrap, client_id=f"{self.settings.read_model_group}-ends"
        )
        try:
            await start_client(probe)
            targets: dict[str, dict[TopicPartition, int]] = {}
            for topic in TOPICS:
                numbers = probe.partitions_for_topic(topic)
                if not numbers:
                    raise LookupError(f"no partitions known for {topic} yet")
                partitions = [TopicPartition(topic, number) for number in sorted(numbers)]
                ends = await probe.end_offsets(partitions)
                beginnings = await probe.beginning_offsets(partitions)
                # A partition whose messages are all gone (retention) has nothing to consume, so nothing to reach.
                targets[topic] = {tp: end for tp, end in ends.items() if end > beginnings[tp]}
            return targets
        finally:
            await probe.stop()

    async def _reload_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.settings.read_model_reload_seconds)
            with contextlib.suppress(Exception):  # logged by the applier; the next period tries again
                await self.reload()

    async def _retrying(self, what: str, work: Callable[[], Awaitable[None]]) -> None:
        backoff = _POLL_SECONDS
        while True:
            try:
                await work()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the broker or the database may be down: try again, caches stay untrusted
                logger.warning("read model %s failed, retrying in %.1f s: %r", what, backoff, error)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)


async def _reached(watcher: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for partition, end in ends.items():
        committed = await watcher.committed(partition)
        if committed is None or committed < end:
            return False
    return True


@asynccontextmanager
async def read_models(app: FastAPI) -> AsyncIterator[None]:
    """Kit extension: ``app.state.read_models``, kept by a :class:`ReadModelSync` running in the background."""
    models = ReadModels()
    sync = ReadModelSync(models, app.state.engine, app.state.settings)
    app.state.read_models = models
    app.state.read_model_sync = sync
    async with background(sync.run(), name="gateway-read-models"):
        yield
