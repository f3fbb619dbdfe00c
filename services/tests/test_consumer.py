"""The consumer helper: idempotent handling, effects and offsets in the right order, dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from kit_widgets.app import Widget
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from onesource.kit.consumer import EventConsumer, dead_letter_topic, is_outage
from onesource.kit.db import create_engine, sessionmaker_for
from onesource.kit.events import CloudEvent
from onesource.kit.kafka import create_producer, ensure_topics
from onesource.kit.settings import KafkaSettings
from onesource.kit.tables import handled_event
from onesource.kit.testing.kafka import TopicReader
from onesource.kit.testing.plugin import Infrastructure
from onesource.kit.testing.waiting import eventually


@pytest_asyncio.fixture(loop_scope="session")
async def engine(widgets_dsn: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(widgets_dsn, pool_size=5)
    yield engine
    await engine.dispose()


async def make_widget(session: AsyncSession, event: CloudEvent) -> None:
    if event.data["colour"] == "explode":
        raise RuntimeError("this handler cannot take that event")
    session.add(Widget(name=event.subject, colour=event.data["colour"]))


def widget_event(name: str, colour: str) -> CloudEvent:
    return CloudEvent(
        source="/onesource/tests", type="gov.onesource.test.widget.made.v1", subject=name, data={"colour": colour}
    )


async def send(producer: AIOKafkaProducer, topic: str, key: str, value: bytes) -> None:
    await producer.send_and_wait(topic, key=key.encode(), value=value)


async def publish_widgets(kafka: KafkaSettings, topic: str, names: list[str]) -> None:
    """One widget event per name on ``topic``."""
    producer = create_producer(kafka, client_id="tests")
    await producer.start()
    try:
        for name in names:
            event = widget_event(name, "red")
            await send(producer, topic, event.subject, event.model_dump_json().encode())
    finally:
        await producer.stop()


async def widgets_named(engine: AsyncEngine, prefix: str) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(Widget).where(Widget.name.startswith(prefix)))
    return int(count or 0)


async def test_duplicates_are_ignored_and_poison_goes_to_dead_letters(
    engine: AsyncEngine, infrastructure: Infrastructure, topic_reader: TopicReader
) -> None:
    run = f"c-{uuid.uuid4().hex[:8]}"
    topic = f"onesource.test.{run}.v1"
    name = f"kit-consumer-{run}"
    await ensure_topics(infrastructure.kafka, [topic], client_id="tests")
    producer = create_producer(infrastructure.kafka, client_id="tests")
    await producer.start()
    first = widget_event(f"{run}-one", "red")
    try:
        await send(producer, topic, first.subject, first.model_dump_json().encode())
        await send(producer, topic, first.subject, first.model_dump_json().encode())  # redelivery
        await send(producer, topic, "junk", b"{not json")
        exploding = widget_event(f"{run}-boom", "explode")
        await send(producer, topic, exploding.subject, exploding.model_dump_json().encode())
        second = widget_event(f"{run}-two", "blue")
        await send(producer, topic, second.subject, second.model_dump_json().encode())
    finally:
        await producer.stop()

    consumer = EventConsumer(
        name=name,
        topics=[topic],
        kafka=infrastructure.kafka,
        sessionmaker=sessionmaker_for(engine),
        handler=make_widget,
        max_attempts=2,
        retry_seconds=0.05,
    )
    task = asyncio.create_task(consumer.run())
    try:
        dead = await topic_reader.read(dead_letter_topic(name), until=lambda got: len(got) >= 2, timeout=30)
        for _ in range(100):
            if await widgets_named(engine, run) == 2:
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    assert await widgets_named(engine, run) == 2, "the duplicate did not create a second widget"
    assert sorted(record.key or "" for record in dead) == sorted(["junk", f"{run}-boom"])
    boom = next(record for record in dead if record.key == f"{run}-boom")
    assert "cannot take that event" in boom.headers["onesource-error"]
    assert json.loads(boom.headers["onesource-original"])[0] == topic
    async with engine.connect() as connection:
        handled = await connection.scalar(
            select(func.count()).select_from(handled_event).where(handled_event.c.consumer == name)
        )
    assert handled == 2, "only the two successful events are recorded as handled"


async def test_handling_an_event_twice_has_one_effect(engine: AsyncEngine, infrastructure: Infrastructure) -> None:
    run = f"h-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(
        name=f"kit-handle-{run}",
        topics=[],
        kafka=infrastructure.kafka,
        sessionmaker=sessionmaker_for(engine),
        handler=make_widget,
    )
    event = widget_event(f"{run}-x", "green")
    assert await consumer.handle(event) == "handled"
    assert await consumer.handle(event) == "duplicate"
    assert await widgets_named(engine, run) == 1


async def test_an_unreachable_database_is_waited_for_never_dead_lettered(
    engine: AsyncEngine, infrastructure: Infrastructure, topic_reader: TopicReader
) -> None:
    run = f"o-{uuid.uuid4().hex[:8]}"
    topic = f"onesource.test.{run}.v1"
    name = f"kit-outage-{run}"
    failures = iter(
        [
            asyncpg.CannotConnectNowError("the database system is not yet accepting connections"),
            ConnectionRefusedError(111, "Connection refused"),
            asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
            ConnectionResetError(104, "Connection reset by peer"),
        ]
    )

    async def during_a_restart(session: AsyncSession, event: CloudEvent) -> None:
        failure = next(failures, None)
        if failure is not None:  # as SQLAlchemy raises the driver's error
            raise DBAPIError("SELECT 1", None, failure) from failure
        await make_widget(session, event)

    await ensure_topics(infrastructure.kafka, [topic], client_id="tests")
    producer = create_producer(infrastructure.kafka, client_id="tests")
    await producer.start()
    event = widget_event(f"{run}-one", "red")
    try:
        await send(producer, topic, event.subject, event.model_dump_json().encode())
    finally:
        await producer.stop()
    consumer = EventConsumer(
        name=name,
        topics=[topic],
        kafka=infrastructure.kafka,
        sessionmaker=sessionmaker_for(engine),
        handler=during_a_restart,
        max_attempts=2,  # fewer than the outage's failures: they must not count
        retry_seconds=0.01,
    )
    task = asyncio.create_task(consumer.run())
    try:
        for _ in range(300):
            if await widgets_named(engine, run) == 1:
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert await widgets_named(engine, run) == 1, "handled once the database answered"
    assert await topic_reader.read(dead_letter_topic(name), settle=1.0) == []


def test_a_handler_bug_is_no_outage() -> None:
    assert not is_outage(RuntimeError("this handler cannot take that event"))
    assert not is_outage(DBAPIError("INSERT", None, ValueError("bad value")))
    assert is_outage(DBAPIError("SELECT 1", None, asyncpg.CannotConnectNowError("starting up")))
    assert is_outage(ConnectionRefusedError(111, "Connection refused"))


async def test_a_consumer_that_stops_on_an_error_is_started_again(
    engine: AsyncEngine, infrastructure: Infrastructure
) -> None:
    runs: list[int] = []

    class Fragile(EventConsumer):
        async def run(self) -> None:
            runs.append(len(runs))
            if len(runs) < 3:  # as a commit raises while the broker is cut off
                raise ConnectionRefusedError(111, "Connection refused")

    consumer = Fragile(
        name="kit-fragile",
        topics=[],
        kafka=infrastructure.kafka,
        sessionmaker=sessionmaker_for(engine),
        handler=make_widget,
    )
    await asyncio.wait_for(consumer.run_forever(), 10)
    assert runs == [0, 1, 2], "run again after each failure, until it ends normally"


#: A member that joined a group and was then killed (SIGKILL: no LeaveGroup), its session lasting ``argv[4]`` ms.
KILLED_MEMBER = """
import asyncio, sys
from aiokafka import AIOKafkaConsumer
async def main():
    member = AIOKafkaConsumer(sys.argv[2], bootstrap_servers=sys.argv[1], group_id=sys.argv[3],
                              session_timeout_ms=int(sys.argv[4]), heartbeat_interval_ms=1000)
    await member.start()
    while not member.assignment():
        await member.getmany(timeout_ms=200)
    print("joined", flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


def restarts(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    """The kit's log lines saying that consumer ``name`` stopped and is started again."""
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"consumer {name} stopped")]


@pytest.mark.slow
async def test_a_member_stuck_joining_its_group_is_started_again(
    engine: AsyncEngine, infrastructure: Infrastructure, caplog: pytest.LogCaptureFixture
) -> None:
    # The group's leader is killed (no LeaveGroup): a new member's join waits for it until its session runs out,
    # as a join stayed pending in a fault run. Here it waits 8 s for the session, then half the leader's session
    # (the broker holds a join that long): longer than the 7 s limit, so it is stopped and started again, and its
    # next join, of a member alone (4 s), ends within the limit.
    caplog.set_level(logging.INFO, logger="onesource.kit")
    run = f"j-{uuid.uuid4().hex[:8]}"
    topic, name = f"onesource.test.{run}.v1", f"kit-join-{run}"
    await ensure_topics(infrastructure.kafka, [topic], client_id="tests")
    member = subprocess.Popen(
        [sys.executable, "-c", KILLED_MEMBER, infrastructure.kafka.bootstrap, topic, name, "8000"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert member.stdout is not None
    assert (await asyncio.to_thread(member.stdout.readline)).strip() == "joined"
    member.kill()
    member.wait()
    member.stdout.close()
    consumer = EventConsumer(
        name=name,
        topics=[topic],
        kafka=infrastructure.kafka.model_copy(update={"session_timeout_ms": 4000, "heartbeat_interval_ms": 1000}),
        sessionmaker=sessionmaker_for(engine),
        handler=make_widget,
        join_limit_seconds=7,
    )
    task = asyncio.create_task(consumer.run_forever())
    try:
        await publish_widgets(infrastructure.kafka, topic, [f"{run}-one"])
        await eventually(lambda: widgets_present(engine, run, 1), timeout=90)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    stalls = [line for line in restarts(caplog, name) if "StalledJoin" in line]
    assert stalls, f"no stalled join was noticed: {restarts(caplog, name)}"


@pytest.mark.slow
async def test_a_member_left_without_partitions_is_no_stall(
    engine: AsyncEngine, infrastructure: Infrastructure, caplog: pytest.LogCaptureFixture
) -> None:
    # Two members, one partition: one of them is assigned nothing, for as long as the group lasts.
    caplog.set_level(logging.INFO, logger="onesource.kit")
    run = f"p-{uuid.uuid4().hex[:8]}"
    topic, name = f"onesource.test.{run}.v1", f"kit-idle-{run}"
    one_partition = infrastructure.kafka.model_copy(update={"partitions": 1})
    await ensure_topics(one_partition, [topic], client_id="tests")
    members = [
        EventConsumer(
            name=name,
            topics=[topic],
            kafka=infrastructure.kafka,
            sessionmaker=sessionmaker_for(engine),
            handler=make_widget,
            join_limit_seconds=10,  # above the joins of the two (a few seconds on a busy machine)
        )
        for _ in range(2)
    ]
    tasks = [asyncio.create_task(member.run_forever()) for member in members]
    try:
        await publish_widgets(infrastructure.kafka, topic, [f"{run}-{n}" for n in range(3)])
        await eventually(lambda: widgets_present(engine, run, 3), timeout=60)
        await asyncio.sleep(12)  # past the limit, the idle member still idle
        # The loop held up past the limit, as a synchronous test holds the session's loop between async ones: no
        # member was waiting on a join meanwhile (they rejoin after, their sessions having run out).
        time.sleep(11)
        await asyncio.sleep(4)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert restarts(caplog, name) == []


async def widgets_present(engine: AsyncEngine, prefix: str, count: int) -> bool:
    return await widgets_named(engine, prefix) == count


async def test_an_offset_a_rebalance_took_away_is_no_reason_to_stop(
    engine: AsyncEngine, infrastructure: Infrastructure
) -> None:
    # The batch was fetched while the partition was this member's; by its commit another member owns it.
    run = f"r-{uuid.uuid4().hex[:8]}"
    topic = f"onesource.test.{run}.v1"
    await ensure_topics(infrastructure.kafka, [topic], client_id="tests")
    await publish_widgets(infrastructure.kafka, topic, [f"{run}-one"])
    reader = AIOKafkaConsumer(topic, bootstrap_servers=infrastructure.kafka.bootstrap, auto_offset_reset="earliest")
    await reader.start()
    try:
        batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {}
        while not batches:
            batches = await reader.getmany(timeout_ms=1000)
    finally:
        await reader.stop()
    consumer = EventConsumer(
        name=f"kit-rebalanced-{run}",
        topics=[topic],
        kafka=infrastructure.kafka,
        sessionmaker=sessionmaker_for(engine),
        handler=make_widget,
    )
    member = consumer.new_member()  # in the group, the partition not (or no longer) assigned to it
    dead_letters = create_producer(infrastructure.kafka, client_id="tests")
    await member.start()
    await dead_letters.start()
    try:
        await consumer.handle_batches(member, batches, dead_letters)
    finally:
        await member.stop()
        await dead_letters.stop()
    assert await widgets_named(engine, run) == 1
