import asyncio
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from onesource.kit.embedded import (
    ROOT_HOME,
    EmbeddedKafka,
    EmbeddedPostgres,
    PortInUse,
    find_free_port,
    port_is_free,
    system_user,
)


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
    assert postgres.start() == []
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
    postgres.discard()
    assert not postgres.cluster_dir.exists()
    assert not postgres.data_dir.exists()


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
        postgres.discard()


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


def _select_one(postgres: EmbeddedPostgres) -> int:
    async def select_one() -> int:
        connection = await asyncpg.connect(postgres.admin_dsn())
        try:
            return int(await connection.fetchval("SELECT 1"))
        finally:
            await connection.close()

    return asyncio.run(select_one())


def test_postgres_starts_over_a_stale_pid_file_whose_pid_is_someone_elses(tmp_path: Path) -> None:
    postgres = EmbeddedPostgres(tmp_path / "postgres", port=find_free_port())
    postgres.start()
    postgres.stop()
    pid_file = postgres.cluster_dir / "postmaster.pid"
    # What a killed server leaves, its pid now taken by an unrelated live process (this one).
    pid_file.write_text(f"{os.getpid()}\n{postgres.cluster_dir}\n1700000000\n{postgres.port}\n")
    try:
        assert not postgres.is_running()
        cleaned = postgres.start()
        assert cleaned == [f"removed a stale postmaster.pid in {postgres.cluster_dir} (a killed server left it)"]
        assert postgres.is_running()
        assert _select_one(postgres) == 1
    finally:
        postgres.discard()


as_root = pytest.mark.skipif(os.geteuid() != 0, reason="what PostgreSQL needs only when the tests run as root")


@as_root
def test_as_root_a_cluster_inside_a_directory_only_root_may_enter_runs_as_the_system_user(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    postgres = EmbeddedPostgres(private / "checkout" / "var" / "postgres", port=find_free_port())
    postgres.start()
    try:
        assert stat.S_IMODE(private.stat().st_mode) == 0o700, "the private directory is left as it was"
        assert postgres.data_dir.is_symlink()
        assert postgres.data_dir.resolve() == postgres.cluster_dir
        assert postgres.cluster_dir.is_relative_to(ROOT_HOME)
        owner = pwd.getpwuid(postgres.cluster_dir.stat().st_uid).pw_name
        assert owner == system_user()
        postmaster = psutil.Process(int((postgres.data_dir / "postmaster.pid").read_text().splitlines()[0]))
        assert postmaster.username() == system_user()
        assert not postmaster.exe().startswith(str(Path(sys.prefix))), "binaries run from a copy it can reach"
        assert _select_one(postgres) == 1
    finally:
        postgres.discard()
    assert not postgres.cluster_dir.exists()


@as_root
def test_as_root_the_clusters_of_vanished_data_directories_are_stopped_and_deleted(tmp_path: Path) -> None:
    abandoned = EmbeddedPostgres(tmp_path / "gone" / "postgres", port=find_free_port())
    abandoned.start()
    postmaster = psutil.Process(int((abandoned.cluster_dir / "postmaster.pid").read_text().splitlines()[0]))
    shutil.rmtree(tmp_path / "gone")  # a test run killed before its clean-up, whose tree pytest then removed

    postgres = EmbeddedPostgres(tmp_path / "next" / "postgres", port=find_free_port())
    try:
        cleaned = postgres.start()
        assert (
            f"deleted the abandoned PostgreSQL cluster {abandoned.cluster_dir} (its {abandoned.data_dir} is gone)"
            in (cleaned)
        )
        assert not abandoned.cluster_dir.exists()
        assert not postmaster.is_running()
        assert _select_one(postgres) == 1
    finally:
        postgres.discard()
        abandoned.stop()


def test_a_child_started_by_the_kit_dies_with_its_parent(tmp_path: Path) -> None:
    # The parent starts the broker and is then killed outright (SIGKILL: no atexit, no clean-up).
    port = find_free_port()
    script = (
        "import sys, time\n"
        "from onesource.kit.embedded import EmbeddedKafka\n"
        f"kafka = EmbeddedKafka(port={port})\n"
        "kafka.start()\n"
        "print(kafka.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as parent:
        try:
            assert parent.stdout is not None
            broker = psutil.Process(int(parent.stdout.readline()))
            assert broker.is_running()
        finally:
            parent.kill()
    broker.wait(timeout=10)
    assert port_is_free("127.0.0.1", port)


async def test_the_postgis_server_has_postgis_and_measures_on_the_ellipsoid(postgis_infrastructure) -> None:
    connection = await asyncpg.connect(postgis_infrastructure.admin_dsn)
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        assert (await connection.fetchval("SELECT postgis_lib_version()")).startswith("3.")
        # A 0.001° square at 39°N: 111.0 km per degree of latitude and 86.6 km per degree of longitude there
        # (WGS 84), so close to 9,617 m² on the ellipsoid; a planar area in degrees would be 1e-6.
        area = await connection.fetchval(
            "SELECT ST_Area(ST_GeogFromText('POLYGON((116 39,116.001 39,116.001 39.001,116 39.001,116 39))'))"
        )
        assert 9_600 < area < 9_640
    finally:
        await connection.close()
