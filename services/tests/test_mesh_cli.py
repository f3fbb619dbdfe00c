import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from onesource.kit.embedded import find_free_port, port_is_free
from onesource.mesh.cli import UpOptions, build_parser, port_requests
from onesource.mesh.seed import DEMO_CLIENTS, DEMO_DEPARTMENTS, DEMO_PEOPLE, DemoClient, demo_password
from onesource.mesh.services import (
    HOST,
    RELAY,
    SERVICES,
    InfraPlan,
    ServiceSpec,
    database_name,
    plan_ports,
    platform_env,
    relay_env,
    service_env,
    service_urls,
)
from onesource.mesh.state import (
    load_or_create_admin_secret,
    mesh_document,
    read_health,
    read_pids,
    write_mesh_json,
)
from onesource.mesh.supervisor import async_database_template, taken_ports
from onesource.standards.uscc import uscc_problem

TESTS = Path(__file__).parent


def test_ports_are_offsets_from_the_gateway() -> None:
    assert plan_ports(8000) == {
        "gateway": 8000,
        "catalog": 8001,
        "exchange": 8002,
        "portal": 8003,
        "population": 8101,
        "legal-entity": 8102,
        "geo": 8103,
        "macroeconomy": 8104,
    }
    assert plan_ports(9000)["geo"] == 9103


def test_databases_are_named_after_packages() -> None:
    assert [database_name(spec) for spec in SERVICES] == [
        "onesource_gateway",
        "onesource_catalog",
        "onesource_exchange",
        "onesource_population",
        "onesource_legal_entity",
        "onesource_geo",
        "onesource_macroeconomy",
        "onesource_portal",
    ]
    assert {spec.name: spec.app_factory for spec in SERVICES}["legal-entity"] == (
        "onesource.legal_entity.main:create_app"
    )


def _infra(*, embedded_kafka: bool = True) -> InfraPlan:
    return InfraPlan(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:54320/{database}",
        kafka_bootstrap="127.0.0.1:19092",
        embedded_kafka=embedded_kafka,
        admin_secret="s3cret",
        postgis_database_url="postgresql+asyncpg://postgres@127.0.0.1:54321/{database}",
    )


def test_the_relay_process_gets_every_relayed_services_settings() -> None:
    urls = service_urls(plan_ports(8000))
    env = relay_env(SERVICES, _infra(), urls)
    relayed = [spec for spec in SERVICES if spec.name != "portal"]
    assert env["ONESOURCE_RELAY_APPS"].split(",") == [spec.app_factory for spec in relayed]
    for spec in relayed:
        assert env[f"{spec.env_prefix}DATABASE_URL"].endswith(f"/{database_name(spec)}")
    assert "ONESOURCE_PORTAL_DATABASE_URL" not in env, "the portal has no outbox to relay"


def test_service_env_for_a_registry() -> None:
    urls = service_urls(plan_ports(8000))
    legal_entity = next(spec for spec in SERVICES if spec.name == "legal-entity")
    assert service_env(legal_entity, _infra(), urls) == {
        "ONESOURCE_ENVIRONMENT": "local",
        "ONESOURCE_LEGAL_ENTITY_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:54320/onesource_legal_entity",
        "ONESOURCE_LEGAL_ENTITY_MIGRATE_ON_STARTUP": "true",
        "ONESOURCE_LEGAL_ENTITY_RELAY_ENABLED": "false",
        "ONESOURCE_KAFKA_BOOTSTRAP": "127.0.0.1:19092",
        "ONESOURCE_KAFKA_IDEMPOTENCE": "false",
        "ONESOURCE_KAFKA_SESSION_TIMEOUT_MS": "1500",
        "ONESOURCE_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "ONESOURCE_AUTH_JWKS_URL": "http://127.0.0.1:8000/.well-known/jwks.json",
        "ONESOURCE_AUTH_REVOCATIONS_URL": "http://127.0.0.1:8000/api/identity/v1/revocations",
        "UVICORN_PROXY_HEADERS": "false",
        "ONESOURCE_OTEL_LOG_JSON": "true",
    }


def test_service_env_for_the_gateway_against_real_kafka() -> None:
    urls = service_urls(plan_ports(8000))
    env = service_env(SERVICES[0], _infra(embedded_kafka=False), urls)
    assert "ONESOURCE_KAFKA_IDEMPOTENCE" not in env
    assert env["ONESOURCE_BOOTSTRAP_ADMIN_SECRET"] == "s3cret"
    assert env["ONESOURCE_GATEWAY_DATABASE_URL"].endswith("/onesource_gateway")
    assert json.loads(env["ONESOURCE_GATEWAY_SERVICE_URLS"]) == {
        "catalog": "http://127.0.0.1:8001",
        "exchange": "http://127.0.0.1:8002",
        "population": "http://127.0.0.1:8101",
        "legal-entity": "http://127.0.0.1:8102",
        "geo": "http://127.0.0.1:8103",
        "macroeconomy": "http://127.0.0.1:8104",
    }
    assert env["ONESOURCE_GATEWAY_PUBLIC_URL"] == "http://127.0.0.1:8000"
    assert json.loads(env["ONESOURCE_GATEWAY_OIDC_CLIENTS"]) == {"portal": ["http://127.0.0.1:8003/auth/callback"]}


def test_service_env_for_the_portal() -> None:
    urls = service_urls(plan_ports(8000))
    portal = next(spec for spec in SERVICES if spec.name == "portal")
    env = service_env(portal, _infra(), urls)
    assert env["ONESOURCE_PORTAL_GATEWAY_URL"] == "http://127.0.0.1:8000"
    assert env["ONESOURCE_PORTAL_PUBLIC_URL"] == "http://127.0.0.1:8003"


def _strings(value: object) -> Iterator[tuple[str, str]]:
    """Every string setting of a settings object, nested ones included, by dotted name."""
    from pydantic import BaseModel

    assert isinstance(value, BaseModel)
    for name in type(value).model_fields:
        field = getattr(value, name)
        if isinstance(field, BaseModel):
            yield from ((f"{name}.{inner}", text) for inner, text in _strings(field))
        elif isinstance(field, str):
            yield name, field


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_no_service_is_left_pointing_at_a_default_port(spec: ServiceSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    """On other ports than the defaults, every address a service is configured with is the mesh's, not a default."""
    import importlib

    urls = service_urls(plan_ports(28000))
    defaults = {f"{HOST}:{port}" for port in plan_ports(8000).values()}
    env = {**service_env(spec, _infra(), urls), **platform_env(spec, urls["gateway"], "client", Path("secret"))}
    for name in list(os.environ):
        if name.startswith("ONESOURCE_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = importlib.import_module(f"onesource.{spec.package}.settings").Settings()
    stale = {name: text for name, text in _strings(settings) if any(address in text for address in defaults)}
    assert stale == {}


def test_external_database_template_keeps_credentials_and_options() -> None:
    template = async_database_template("postgresql://app:p%7Bw%7D@db.internal:5433/postgres?sslmode=require")
    assert template == "postgresql+asyncpg://app:p%7Bw%7D@db.internal:5433/{database}?sslmode=require"
    infra = InfraPlan(database_url=template, kafka_bootstrap="k:9092", embedded_kafka=False, admin_secret="x")
    assert infra.database_dsn("onesource_geo") == (
        "postgresql+asyncpg://app:p%7Bw%7D@db.internal:5433/onesource_geo?sslmode=require"
    )
    with pytest.raises(ValueError, match="postgresql://"):
        async_database_template("mysql://root@localhost/x")


def test_mesh_json_has_the_pinned_shape(tmp_path: Path) -> None:
    urls = service_urls(plan_ports(8000))
    document = mesh_document(
        urls=urls,
        kafka_bootstrap="127.0.0.1:19092",
        admin_secret="adm",
        demo_clients=[DemoClient("mca-app", "sec", "mca", ("consumer",))],
    )
    path = write_mesh_json(tmp_path, document)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = json.loads(path.read_text(encoding="utf-8"))
    users = written.pop("demo_users")
    assert written == {
        "gateway": "http://127.0.0.1:8000",
        "portal": "http://127.0.0.1:8003",
        "kafka_bootstrap": "127.0.0.1:19092",
        "services": urls,
        "admin": {"client_id": "admin", "client_secret": "adm"},
        "demo_clients": [{"client_id": "mca-app", "client_secret": "sec", "department": "mca", "roles": ["consumer"]}],
    }
    assert {user["username"] for user in users} == {person.username for person in DEMO_PEOPLE}
    mca = next(user for user in users if user["username"] == "mca.consumer")
    assert mca == {"username": "mca.consumer", "password": demo_password("adm", "mca.consumer"), "department": "mca",
                   "roles": ["consumer"]}  # fmt: skip
    assert demo_password("adm", "mca.consumer") != demo_password("other", "mca.consumer")


def test_demo_people_cover_every_demo_role_of_a_person() -> None:
    codes = {department.code for department in DEMO_DEPARTMENTS} | {"platform"}
    assert {person.department for person in DEMO_PEOPLE} <= codes
    assert {role for person in DEMO_PEOPLE for role in person.roles} == {"steward", "coordinator", "consumer", "admin"}


def test_admin_secret_comes_from_env_or_is_kept(tmp_path: Path) -> None:
    assert load_or_create_admin_secret(tmp_path, {"ONESOURCE_BOOTSTRAP_ADMIN_SECRET": "given"}) == "given"
    assert not (tmp_path / "admin-secret").exists()
    generated = load_or_create_admin_secret(tmp_path, {})
    assert len(generated) >= 32
    assert stat.S_IMODE((tmp_path / "admin-secret").stat().st_mode) == 0o600
    assert load_or_create_admin_secret(tmp_path, {}) == generated


@pytest.mark.parametrize("department", DEMO_DEPARTMENTS, ids=lambda department: department.code)
def test_demo_departments_have_valid_government_usccs(department: object) -> None:
    uscc = department.uscc  # type: ignore[attr-defined]
    assert uscc_problem(uscc) is None, "a government body's code, valid in full (GB 32100 with GB 11714)"
    assert uscc.startswith("11")  # 机构编制 + 机关


def test_demo_clients_belong_to_demo_departments() -> None:
    codes = {department.code for department in DEMO_DEPARTMENTS}
    assert {client.department for client in DEMO_CLIENTS} == codes
    assert len({client.client_id for client in DEMO_CLIENTS}) == len(DEMO_CLIENTS)
    assert {role for client in DEMO_CLIENTS for role in client.roles} == {
        "registrar",
        "steward",
        "coordinator",
        "consumer",
    }


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def test_taken_ports_name_the_flag_to_change(listening_socket: socket.socket) -> None:
    port = listening_socket.getsockname()[1]
    options = UpOptions(var=Path("var"), pg_port=port, kafka_port=find_free_port(), gateway_port=port)
    problems = taken_ports(port_requests(options, embedded_postgres=True, embedded_kafka=True))
    # Only the problems about our socket's port: other processes may hold the ports next to it meanwhile.
    messages = [str(problem) for problem in problems if f"127.0.0.1:{port} " in str(problem)]
    assert len(messages) == 2
    assert "gateway" in messages[0]
    assert "--gateway-port" in messages[0]
    assert f"127.0.0.1:{port}" in messages[0]
    assert "PostgreSQL" in messages[1]
    assert "--pg-port" in messages[1]
    without_embedded = taken_ports(port_requests(options, embedded_postgres=False, embedded_kafka=False))
    assert [p for p in without_embedded if f"127.0.0.1:{port} " in str(p) and "PostgreSQL" in str(p)] == []


def test_parser_defaults() -> None:
    arguments = build_parser().parse_args(["up"])
    assert (arguments.pg_port, arguments.kafka_port, arguments.gateway_port) == (54320, 19092, 8000)
    assert arguments.postgis_port == 54321
    assert arguments.seed
    assert not arguments.reset
    assert not build_parser().parse_args(["up", "--no-seed"]).seed


def _free_gateway_port() -> int:
    for _ in range(50):
        port = find_free_port()
        if all(port_is_free("127.0.0.1", p) for p in [*plan_ports(port).values(), port + RELAY.port_offset]):
            return port
    raise AssertionError("no free block of service ports")


# Runs `onesource up` with every service replaced by tests/mesh_stub.py.
_HARNESS = """
import sys
import onesource.mesh.cli as cli
from onesource.mesh.services import ServiceSpec

class StubSpec(ServiceSpec):
    __slots__ = ()
    @property
    def app_factory(self) -> str:
        return "mesh_stub:create_app"

cli.SERVICES = tuple(StubSpec(s.name, s.package, s.env_prefix, s.port_offset, s.postgis) for s in cli.SERVICES)
cli.RELAY = StubSpec(cli.RELAY.name, cli.RELAY.package, cli.RELAY.env_prefix, cli.RELAY.port_offset)
# Restarts without the production backoff, so a crash loop is given up within a test's patience.
cli.RESTART_POLICY = cli.RestartPolicy(first_delay=0.1, max_delay=0.4, give_up_after=3)
# The stub gateway knows population's seeding calls only; the mesh tests seed every registry for real.
everything = cli.registries
cli.registries = lambda: [registry for registry in everything() if registry.service == "population"]
sys.exit(cli.main(sys.argv[1:]))
"""


def test_up_runs_seeds_writes_mesh_json_and_stops_cleanly(tmp_path: Path) -> None:
    var = tmp_path / "var"
    gateway_port = _free_gateway_port()
    pg_port, kafka_port = find_free_port(), find_free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("ONESOURCE_MESH_DATABASE_URL", "ONESOURCE_KAFKA_BOOTSTRAP", "ONESOURCE_BOOTSTRAP_ADMIN_SECRET")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    args = [sys.executable, "-c", _HARNESS, "up", "--var", str(var), "--gateway-port", str(gateway_port)]
    args += ["--pg-port", str(pg_port), "--kafka-port", str(kafka_port), "--postgis-port", str(find_free_port())]
    output = tmp_path / "up.out"
    with output.open("wb") as out:
        mesh = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (var / "mesh.json").exists():
            assert mesh.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.2)
        document = json.loads((var / "mesh.json").read_text())
        assert stat.S_IMODE((var / "mesh.json").stat().st_mode) == 0o600
        assert document["gateway"] == f"http://127.0.0.1:{gateway_port}"
        assert document["kafka_bootstrap"] == f"127.0.0.1:{kafka_port}"
        assert set(document["services"]) == {spec.name for spec in SERVICES}
        assert document["admin"]["client_secret"] == (var / "admin-secret").read_text().strip()
        assert [client["client_id"] for client in document["demo_clients"]] == [c.client_id for c in DEMO_CLIENTS]
        assert all(client["client_secret"] for client in document["demo_clients"])
        assert document["portal"] == document["services"]["portal"]
        assert [user["username"] for user in document["demo_users"]] == [p.username for p in DEMO_PEOPLE]

        catalog_env = httpx.get(f"{document['services']['catalog']}/env").json()
        assert catalog_env["ONESOURCE_CATALOG_DATABASE_URL"] == (
            f"postgresql+asyncpg://postgres@127.0.0.1:{pg_port}/onesource_catalog"
        )
        assert catalog_env["ONESOURCE_KAFKA_IDEMPOTENCE"] == "false"
        assert "ONESOURCE_BOOTSTRAP_ADMIN_SECRET" not in catalog_env

        pids = read_pids(var)
        assert pids is not None
        children = [record.pid for record in pids.services.values()]
        assert pids.kafka is not None
        children.append(pids.kafka.pid)
        postgres_pid = int((var / "postgres" / "postmaster.pid").read_text().splitlines()[0])
        assert all(psutil.pid_exists(pid) for pid in [*children, postgres_pid])
        assert "Press Ctrl-C" in output.read_text()
        printed = output.read_text()
        assert "Demo sign-ins at the portal" in printed
        assert all(user["password"] in printed for user in document["demo_users"])

        mesh.send_signal(signal.SIGINT)
        assert mesh.wait(timeout=60) == 0, output.read_text()
    finally:
        if mesh.poll() is None:
            os.killpg(mesh.pid, signal.SIGKILL)
            mesh.wait()
    leftovers = [process for process in map(_process, [*children, postgres_pid]) if process is not None]
    _, alive = psutil.wait_procs(leftovers, timeout=5)
    assert alive == []
    assert not (var / "mesh.json").exists()
    assert not (var / "mesh.pids").exists()
    assert "Mesh stopped." in output.read_text()


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


def _harness_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("ONESOURCE_MESH_DATABASE_URL", "ONESOURCE_KAFKA_BOOTSTRAP", "ONESOURCE_BOOTSTRAP_ADMIN_SECRET")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    return env


def _up(var: Path, ports: tuple[int, int, int], output: Path) -> subprocess.Popen[bytes]:
    """`onesource up` over stub services in a process group of its own; returns once `mesh.json` is written."""
    gateway_port, pg_port, kafka_port = ports
    (var / "mesh.json").unlink(missing_ok=True)  # a killed launcher's, not this one's
    args = [sys.executable, "-c", _HARNESS, "up", "--var", str(var), "--gateway-port", str(gateway_port)]
    args += ["--pg-port", str(pg_port), "--kafka-port", str(kafka_port), "--postgis-port", str(find_free_port())]
    with output.open("ab") as out:
        mesh = subprocess.Popen(args, env=_harness_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (var / "mesh.json").exists():
        if mesh.poll() is not None or time.monotonic() > deadline:
            _kill(mesh)
            pytest.fail(f"onesource up did not come up:\n{output.read_text()}")
        time.sleep(0.2)
    return mesh


def _kill(mesh: subprocess.Popen[bytes]) -> None:
    if mesh.poll() is None:
        os.killpg(mesh.pid, signal.SIGKILL)
        mesh.wait()


def _children(var: Path) -> list[psutil.Process]:
    """The services and the broker the recorded mesh runs."""
    pids = read_pids(var)
    assert pids is not None
    records = [*pids.services.values(), *([pids.kafka] if pids.kafka is not None else [])]
    return [psutil.Process(record.pid) for record in records]


def _all_ports_free(ports: tuple[int, int, int]) -> bool:
    gateway_port, pg_port, kafka_port = ports
    relay_port = gateway_port + RELAY.port_offset
    return all(
        port_is_free("127.0.0.1", port)
        for port in [*plan_ports(gateway_port).values(), relay_port, pg_port, kafka_port]
    )


@pytest.fixture
def ports() -> tuple[int, int, int]:
    return _free_gateway_port(), find_free_port(), find_free_port()


def test_repeated_sigterms_stop_the_mesh_quietly_and_completely(tmp_path: Path, ports: tuple[int, int, int]) -> None:
    var, output = tmp_path / "var", tmp_path / "up.out"
    mesh = _up(var, ports, output)
    try:
        children = _children(var)
        # A supervisor that sends SIGTERM and repeats it, as `kill` of the process group twice does.
        for _ in range(3):
            os.killpg(mesh.pid, signal.SIGTERM)
            time.sleep(0.05)
        assert mesh.wait(timeout=60) == 0, output.read_text()
    finally:
        _kill(mesh)
    text = output.read_text()
    assert "Traceback" not in text
    assert "Stopping the mesh…" in text
    assert "Mesh stopped." in text
    _, alive = psutil.wait_procs(children, timeout=5)
    assert alive == []
    assert _all_ports_free(ports)


def test_a_launcher_killed_during_its_shutdown_leaves_nothing_holding_ports(
    tmp_path: Path, ports: tuple[int, int, int]
) -> None:
    var, output = tmp_path / "var", tmp_path / "up.out"
    mesh = _up(var, ports, output)
    try:
        children = _children(var)
        # A CI runner or supervisor with a short grace: SIGTERM to the group, SIGKILL soon after.
        os.killpg(mesh.pid, signal.SIGTERM)
        time.sleep(0.3)
        os.killpg(mesh.pid, signal.SIGKILL)
        mesh.wait(timeout=10)
    finally:
        _kill(mesh)
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], [process.cmdline() for process in alive]

    again = _up(var, ports, output)
    try:
        assert httpx.get(f"http://127.0.0.1:{ports[0]}/readyz").status_code == 200
    finally:
        again.send_signal(signal.SIGINT)
        assert again.wait(timeout=60) == 0, output.read_text()
    assert _all_ports_free(ports)


def test_the_next_start_cleans_up_after_a_launcher_killed_outright(tmp_path: Path, ports: tuple[int, int, int]) -> None:
    var, output = tmp_path / "var", tmp_path / "up.out"
    mesh = _up(var, ports, output)
    try:
        children = _children(var)
        launcher = mesh.pid
        os.kill(launcher, signal.SIGKILL)  # the launcher alone: no signal handler, no atexit
        mesh.wait(timeout=10)
    finally:
        _kill(mesh)
    # Its services and broker go with it; PostgreSQL (a daemon of pg_ctl) is left for the next start.
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], [process.cmdline() for process in alive]
    assert (var / "mesh.pids").exists()

    again = _up(var, ports, output)
    try:
        text = output.read_text()
        assert f"Cleaned up after a mesh whose launcher (pid {launcher}) was killed: PostgreSQL" in text
        assert httpx.get(f"http://127.0.0.1:{ports[0]}/readyz").status_code == 200
    finally:
        again.send_signal(signal.SIGINT)
        assert again.wait(timeout=60) == 0, output.read_text()
    assert _all_ports_free(ports)


def _wait_for(check: Callable[[], object], what: str, output: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not after {timeout} s: {what}\n{output.read_text()}"
        time.sleep(0.2)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz").status_code == 200
    except httpx.HTTPError:
        return False


def _status(var: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "onesource.mesh", "status", "--var", str(var)],
        env={**_harness_env(), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout + done.stderr


def _restarted(var: Path, name: str, before: int) -> bool:
    pids = read_pids(var)
    return (
        pids is not None
        and name in pids.services
        and pids.services[name].pid != before
        and (pids.services[name].alive())
    )


def test_a_killed_service_and_the_relay_are_restarted_and_counted(tmp_path: Path, ports: tuple[int, int, int]) -> None:
    var, output = tmp_path / "var", tmp_path / "up.out"
    mesh = _up(var, ports, output)
    catalog = f"http://127.0.0.1:{ports[0] + 1}"
    try:
        for name in ("catalog", "relay"):
            pids = read_pids(var)
            assert pids is not None
            killed = pids.services[name].pid
            os.killpg(killed, signal.SIGKILL)
            _wait_for(lambda name=name, killed=killed: _restarted(var, name, killed), f"{name} restarted", output)
        _wait_for(lambda: _ready(catalog), "catalog ready again", output)
        _wait_for(lambda: read_health(var).get("relay", {}).get("state") == "up", "the relay ready again", output)
        text = output.read_text()
        assert "catalog exited (-9); restarting" in text
        assert "relay exited (-9); restarting" in text
        health = read_health(var)
        assert (health["catalog"]["restarts"], health["catalog"]["last_exit"]) == (1, -9)
        assert (health["relay"]["restarts"], health["gateway"]["restarts"]) == (1, 0)
        status = _status(var)
        rows = {line.split("│")[1].strip(): line for line in status.splitlines() if line.count("│") > 3}
        assert "1 (last exit -9)" in rows["catalog"], status
        assert "1 (last exit -9)" in rows["relay"], status
        assert "ready" in rows["gateway"]
        mesh.send_signal(signal.SIGINT)
        assert mesh.wait(timeout=60) == 0, output.read_text()
    finally:
        _kill(mesh)
    assert not (var / "mesh.health.json").exists()
    assert _all_ports_free(ports)


def test_a_service_that_keeps_crashing_is_given_up_loudly(tmp_path: Path, ports: tuple[int, int, int]) -> None:
    var, output = tmp_path / "var", tmp_path / "up.out"
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    os.environ["MESH_STUB_CRASH_DIR"] = str(crashes)  # read by _harness_env, for the stubs
    try:
        mesh = _up(var, ports, output)
    finally:
        del os.environ["MESH_STUB_CRASH_DIR"]
    try:
        (crashes / f"crash-{ports[0] + 1}").touch()
        pids = read_pids(var)
        assert pids is not None
        os.killpg(pids.services["catalog"].pid, signal.SIGKILL)
        _wait_for(lambda: "no more restarts" in output.read_text(), "the supervisor gives up", output)
        text = output.read_text()
        assert "catalog exited (1) 3 times in a row without becoming ready" in text
        assert "told to crash on port" in text, "the log's tail says why"
        assert mesh.poll() is None, "the rest of the mesh runs on"
        assert httpx.get(f"http://127.0.0.1:{ports[0]}/readyz").status_code == 200
        _wait_for(lambda: read_health(var).get("catalog", {}).get("state") == "gave up", "health says so", output)
        assert read_health(var)["catalog"]["restarts"] == 2
        status = _status(var)
        assert "gave up, last exit 1" in status, status
        mesh.send_signal(signal.SIGINT)
        assert mesh.wait(timeout=60) == 0, output.read_text()
    finally:
        _kill(mesh)
    assert _all_ports_free(ports)
