"""The relay with the production producer settings — idempotence on, ``acks=all`` — against librdkafka's mock
cluster (three brokers, replication factor 3), with produce requests failing and a broker dropping its connections
in the middle of the batches: every committed event arrives once, in order per key.

The embedded broker rejects ``InitProducerId``, so this is where idempotence is exercised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator
from typing import ClassVar

import pytest
from kit_widgets.app import MIGRATIONS
from sqlalchemy import func, select

from onesource.kit import outbox
from onesource.kit.db import create_engine, sessionmaker_for
from onesource.kit.events import DomainEvent
from onesource.kit.outbox import OutboxRelay
from onesource.kit.settings import KafkaSettings
from onesource.kit.tables import outbox_event
from onesource.kit.testing.kafka import TopicReader
from onesource.kit.testing.plugin import Infrastructure, prepare_service_database
from tests.faults.mock_cluster import (
    NOT_ENOUGH_REPLICAS,
    NOT_ENOUGH_REPLICAS_AFTER_APPEND,
    NOT_LEADER_OR_FOLLOWER,
    REQUEST_TIMED_OUT,
    MockCluster,
)

TOPIC = "onesource.test.faults.counted.v1"
KEYS = 24
PER_KEY = 25


class Counted(DomainEvent):
    event_type: ClassVar[str] = "gov.onesource.test.counter.counted.v1"
    topic: ClassVar[str] = TOPIC
    source: ClassVar[str] = "/onesource/tests"
    counter: str
    seq: int

    def subject(self) -> str:
        return self.counter


@pytest.fixture
def cluster() -> Iterator[MockCluster]:
    mock = MockCluster(brokers=3)
    # Created here: the mock does not answer aiokafka's CreateTopics (the relay only lists existing topics).
    mock.create_topic(TOPIC, partitions=3, replication_factor=3)
    try:
        yield mock
    finally:
        mock.close()


async def test_idempotent_acks_all_relay_loses_and_duplicates_nothing_under_produce_errors(
    infrastructure: Infrastructure, cluster: MockCluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aiokafka")
    dsn = await prepare_service_database(infrastructure, "producer", MIGRATIONS)
    engine = create_engine(dsn, pool_size=4)
    settings = KafkaSettings(
        bootstrap=cluster.bootstrap, idempotence=True, request_timeout_ms=5000, replication_factor=3
    )
    relay = OutboxRelay(engine, settings, service="faults-producer", batch_size=50, poll_seconds=0.1)
    sessions = sessionmaker_for(engine)
    written: list[str] = []

    async def write(round_: int) -> None:
        for key in range(KEYS):
            async with sessions() as session, session.begin():
                written.append(outbox.add(session, Counted(counter=f"c{key:02d}", seq=round_)))

    async def pending() -> int:
        async with engine.connect() as connection:
            return int(
                await connection.scalar(
                    select(func.count()).select_from(outbox_event).where(outbox_event.c.published_at.is_(None))
                )
                or 0
            )

    running = asyncio.create_task(relay.run())
    try:
        for round_ in range(PER_KEY):
            await write(round_)
            if round_ % 5 == 1:
                # Retriable produce errors: the producer retries the same batches with the same sequence numbers;
                # after NOT_ENOUGH_REPLICAS_AFTER_APPEND the broker has the batch already and must not take it twice.
                cluster.fail_produce(
                    NOT_ENOUGH_REPLICAS_AFTER_APPEND, NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS
                )
            if round_ % 5 == 3:
                # A broker drops every connection while batches are in flight, and comes back.
                broker = 1 + (round_ // 5) % 3
                cluster.broker_down(broker)
                await asyncio.sleep(0.5)
                cluster.broker_up(broker)
            await asyncio.sleep(0.05)
        deadline = asyncio.get_running_loop().time() + 90
        while await pending():
            assert asyncio.get_running_loop().time() < deadline, f"{await pending()} events never published"
            await asyncio.sleep(0.2)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await relay.stop()
        await engine.dispose()

    records = await TopicReader(cluster.bootstrap).read(
        TOPIC, until=lambda got: len(got) >= len(written), timeout=30, settle=2.0
    )
    ids = [record.value["id"] for record in records]
    assert sorted(ids) == sorted(written), (
        f"{len(ids)} messages for {len(written)} events: "
        f"{len(set(written) - set(ids))} lost, {len(ids) - len(set(ids))} duplicated"
    )
    by_key: dict[str, list[int]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        assert record.key == record.value["subject"]
        by_key[str(record.key)].append(int(record.value["data"]["seq"]))
    assert by_key == {f"c{key:02d}": list(range(PER_KEY)) for key in range(KEYS)}

    # The faults reached the producer: it retried failed produce requests and lost a broker's connection.
    retried = [r.getMessage() for r in caplog.records if "Got error produce response" in r.getMessage()]
    assert any("NotEnoughReplicasAfterAppend" in message for message in retried), retried[:5]
    assert any(
        "NodeNotReadyError" in message or "Connect call failed" in message
        for message in retried + [r.getMessage() for r in caplog.records]
    )
