import asyncio
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from onesource.kit.embedded import EmbeddedKafka, EmbeddedPostgres, PortInUse, find_free_port, port_is_free


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_port_is_free_sees_a_listening_socket(taken_port: int) -> None:
    assert not port_is_free("127.0.0.1", taken_port)
    assert port_is_free("127.0.0.1", find_free_port())


def test_postgres_starts_creates_databases_and_stops(tmp_path: Path) -> None:
    postgres = EmbeddedPostgres(tmp_path / "postgres", port=find_free_port())
    postgres.start()
    try:
        assert postgres.is_running()
        postgres.start()  # idempotent on the same data directory
        postgres.ensure_database("onesource_demo")
        postgres.ensure_database("onesource_demo")

        async def select_one() -> int:
            dsn = postgres.async_dsn("onesource_demo").replace("+asyncpg", "")
            connection = await asyncpg.connect(dsn)
            try:
                return int(await connection.fetchval("SELECT 1"))
            finally:
                await connection.close()

        assert asyncio.run(select_one()) == 1

        postgres.drop_database("onesource_demo")
        postgres.drop_database("onesource_demo")
        with pytest.raises(asyncpg.InvalidCatalogNameError):
            asyncio.run(select_one())
    finally:
        postgres.stop()
    assert not postgres.is_running()
    postgres.stop()


def test_postgres_restart_keeps_data(tmp_path: Path) -> None:
    postgres = EmbeddedPostgres(tmp_path / "postgres", port=find_free_port())
    postgres.start()
    try:
        postgres.ensure_database("kept")
        postgres.stop()
        postgres.start()

        async def exists() -> bool:
            connection = await asyncpg.connect(postgres.admin_dsn())
            try:
                return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = 'kept'"))
            finally:
                await connection.close()

        assert asyncio.run(exists())
    finally:
        postgres.stop()


def test_dsns_name_host_port_and_database(tmp_path: Path) -> None:
    postgres = EmbeddedPostgres(tmp_path, port=54999)
    assert postgres.admin_dsn() == "postgresql://postgres@127.0.0.1:54999/postgres"
    assert postgres.async_dsn("onesource_geo") == "postgresql+asyncpg://postgres@127.0.0.1:54999/onesource_geo"


def test_postgres_refuses_a_taken_port(tmp_path: Path, taken_port: int) -> None:
    postgres = EmbeddedPostgres(tmp_path / "postgres", port=taken_port)
    with pytest.raises(PortInUse, match=rf"{taken_port}.*--pg-port") as raised:
        postgres.start()
    assert raised.value.port == taken_port
    assert not postgres.is_running()


def test_kafka_refuses_a_taken_port(taken_port: int) -> None:
    kafka = EmbeddedKafka(port=taken_port)
    with pytest.raises(PortInUse, match=rf"{taken_port}.*--kafka-port"):
        kafka.start()
    assert kafka.pid is None


async def _round_trip(bootstrap: str) -> list[bytes]:
    topic = f"test.embedded.{uuid.uuid4().hex}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"k1")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"group-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        session_timeout_ms=1500,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    try:
        batch = await asyncio.wait_for(consumer.getone(), timeout=20)
        return [batch.value] if batch.value is not None else []
    finally:
        await consumer.stop()


def test_kafka_round_trip_and_clean_restart(tmp_path: Path) -> None:
    kafka = EmbeddedKafka(port=find_free_port(), log_path=tmp_path / "tansu.log")
    assert kafka.bootstrap == f"127.0.0.1:{kafka.port}"
    kafka.start()
    try:
        first_pid = kafka.pid
        assert first_pid is not None
        assert kafka.is_running()
        kafka.start()  # idempotent
        assert kafka.pid == first_pid
        assert asyncio.run(_round_trip(kafka.bootstrap)) == [b"hello"]

        kafka.stop()
        assert not kafka.is_running()
        assert not psutil.pid_exists(first_pid)
        assert port_is_free("127.0.0.1", kafka.port)

        kafka.start()
        second_pid = kafka.pid
        assert second_pid is not None
        assert second_pid != first_pid
        assert asyncio.run(_round_trip(kafka.bootstrap)) == [b"hello"]
    finally:
        kafka.stop()
    kafka.stop()
    assert kafka.pid is None
    assert not psutil.pid_exists(second_pid)
    assert not any(
        "tansu" in process.info["name"] and f":{kafka.port}" in " ".join(process.info["cmdline"] or [])
        for process in psutil.process_iter(["name", "cmdline"])
    )
