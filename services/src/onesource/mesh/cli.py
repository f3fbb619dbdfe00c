"""`onesource`: run the mesh on one machine (`up`), look at it (`status`), stop it (`down`), verify its audit log."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psutil
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from onesource.kit.embedded import (
    EmbeddedKafka,
    EmbeddedPostgres,
    PortInUse,
    PostgisUnavailable,
    PostgresBinaries,
    postgis,
)
from onesource.mesh.seed import (
    DemoClient,
    SeedError,
    catalog_seed_steps,
    client_secret_file,
    demo_users,
    platform_seed_steps,
    record_seed_steps,
    seed_catalog,
    seed_demo,
    seed_platform,
    seed_records,
    seed_steps,
    seed_subscriptions,
)
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
    MeshPids,
    PostgresRecord,
    ProcessRecord,
    load_or_create_admin_secret,
    mesh_document,
    read_health,
    read_pids,
    write_health,
    write_mesh_json,
    write_pids,
)
from onesource.mesh.supervisor import (
    DATABASE_ENV,
    GATEWAY_PORT_HINT,
    KAFKA_ENV,
    POSTGIS_DATABASE_ENV,
    PortRequest,
    RestartPolicy,
    ServiceProcess,
    async_database_template,
    ensure_external_databases,
    log_tail,
    probe_ready,
    stop_processes,
    taken_ports,
)
from onesource.registry.directory import registries

__all__ = ["UpOptions", "build_parser", "main", "port_requests"]

READY_TIMEOUT_S = 90.0
STATUS_REFRESH_S = 2.0
#: How often the supervisor looks for exited services (a restart should not wait for the status line).
SUPERVISE_S = 0.2
RESTART_POLICY = RestartPolicy()


@dataclass(frozen=True, slots=True)
class UpOptions:
    """Options of `onesource up`."""

    var: Path
    pg_port: int = 54320
    postgis_port: int = 54321
    kafka_port: int = 19092
    gateway_port: int = 8000
    reset: bool = False
    seed: bool = True


class MeshFailed(RuntimeError):
    """Start-up failed; the message says why and what to look at."""


class _Stop(BaseException):
    """Raised from the SIGTERM/SIGHUP handler to unwind `up` like Ctrl-C does."""


def build_parser() -> argparse.ArgumentParser:
    """The `onesource` argument parser."""
    parser = argparse.ArgumentParser(prog="onesource", description="Run the OneSource mesh locally.")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start PostgreSQL, Kafka and every service; seed demo data; stay running")
    up.add_argument("--var", type=Path, default=Path("var"), help="state directory (default: ./var)")
    up.add_argument("--pg-port", type=int, default=54320, help="embedded PostgreSQL port (default: 54320)")
    up.add_argument(
        "--postgis-port", type=int, default=54321, help="embedded PostgreSQL with PostGIS, for geo (default: 54321)"
    )
    up.add_argument("--kafka-port", type=int, default=19092, help="embedded Kafka port (default: 19092)")
    up.add_argument(
        "--gateway-port",
        type=int,
        default=8000,
        help="gateway port; other services use +1, +2, +101…+104 (default: 8000)",
    )
    up.add_argument("--reset", action="store_true", help="delete the embedded database first")
    up.add_argument("--no-seed", dest="seed", action="store_false", help="do not seed demo data")

    for name, help_text in (("status", "show whether each service is ready"), ("down", "stop a running mesh")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--var", type=Path, default=Path("var"), help="state directory (default: ./var)")

    audit = commands.add_parser("audit", help="the gateway's tamper-evident audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="recompute the audit chain; exit 1 if any entry was changed, deleted or reordered"
    )
    verify.add_argument("--var", type=Path, default=Path("var"), help="the running mesh's state directory")
    verify.add_argument("--gateway", help="gateway base URL (instead of var/mesh.json)")
    verify.add_argument("--client-id", default="admin", help="an admin client (with --gateway; default: admin)")
    verify.add_argument(
        "--client-secret-env",
        default="ONESOURCE_AUDIT_CLIENT_SECRET",
        help="environment variable holding that client's secret (with --gateway)",
    )
    verify.add_argument(
        "--dsn-env",
        help="verify straight on the gateway's database, whose DSN this environment variable holds",
    )

    migrate_command = commands.add_parser(
        "migrate", help="apply a service's migrations to the database its settings name (production)"
    )
    migrate_command.add_argument("service", help=f"one of: {', '.join(spec.name for spec in SERVICES)}")
    migrate_command.add_argument("--revision", default="head", help="target revision (default: head)")

    contracts_command = commands.add_parser("contracts", help="regenerate contracts/ from the code")
    contracts_command.add_argument("--out", type=Path, default=Path("contracts"), help="contracts directory")
    contracts_command.add_argument(
        "--check", action="store_true", help="only report drift between code and contracts; exit 1 if any"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `onesource` console script."""
    arguments = build_parser().parse_args(argv)
    console = Console()
    if arguments.command == "migrate":
        return _migrate(arguments.service, arguments.revision, console)
    if arguments.command == "contracts":
        return _contracts(arguments.out, console, check=arguments.check)
    if arguments.command == "audit":
        return _audit_verify(arguments, console)
    var = Path(arguments.var).absolute()
    if arguments.command == "up":
        options = UpOptions(
            var=var,
            pg_port=arguments.pg_port,
            postgis_port=arguments.postgis_port,
            kafka_port=arguments.kafka_port,
            gateway_port=arguments.gateway_port,
            reset=arguments.reset,
            seed=arguments.seed,
        )
        return _Mesh(options, console).run()
    if arguments.command == "status":
        return _status(var, console)
    return _down(var, console)


def port_requests(
    options: UpOptions, *, embedded_postgres: bool, embedded_kafka: bool, embedded_postgis: bool = False
) -> list[PortRequest]:
    """Every port `up` will bind, with the flag that moves it."""
    requests = [
        PortRequest(port, f"the {name} service", GATEWAY_PORT_HINT)
        for name, port in plan_ports(options.gateway_port).items()
    ]
    requests.append(PortRequest(options.gateway_port + RELAY.port_offset, "the outbox relay", GATEWAY_PORT_HINT))
    if embedded_postgres:
        requests.append(PortRequest(options.pg_port, "the embedded PostgreSQL", "--pg-port"))
    if embedded_postgis:
        requests.append(PortRequest(options.postgis_port, "the embedded PostgreSQL with PostGIS", "--postgis-port"))
    if embedded_kafka:
        requests.append(PortRequest(options.kafka_port, "the embedded Kafka broker", "--kafka-port"))
    return requests


class _Mesh:
    """One `onesource up` run: owns every process it starts and stops them all on the way out."""

    def __init__(self, options: UpOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.var = options.var
        self.logs = self.var / "logs"
        self.postgres: EmbeddedPostgres | None = None
        self.postgis: EmbeddedPostgres | None = None
        self.kafka: EmbeddedKafka | None = None
        self.services: list[ServiceProcess] = []
        self._shut_down = False
        self._previous_handlers: dict[int, Any] = {}

    def run(self) -> int:
        """Start everything, stay up until Ctrl-C or SIGTERM, then stop everything; the exit code."""
        previous = read_pids(self.var)
        if previous is not None and previous.supervisor.alive():
            self.console.print(
                f"[red]A mesh is already running from {self.var} (pid {previous.supervisor.pid}).[/] "
                "Stop it with [bold]onesource down[/] or use another --var."
            )
            return 1
        atexit.register(self.shutdown)
        # SIGINT too: Ctrl-C stops the mesh even when a script started it in the background, which starts its
        # commands with SIGINT ignored (Python then keeps it ignored).
        self._previous_handlers = {signum: signal.signal(signum, self._on_signal) for signum in _STOP_SIGNALS}
        try:
            if previous is not None:
                self._clean_up_after(previous)
            self._start()
            self._watch()
        except _Stop:
            pass
        except (PortInUse, MeshFailed, SeedError) as exc:
            self.console.print(f"[red]{escape(str(exc))}[/]")
            return 1
        finally:
            self.shutdown()
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only the first signal unwinds: a supervisor's second SIGTERM or an impatient Ctrl-C must not break off
        # the shutdown (it ends by killing whatever is left anyway).
        _ignore_stop_signals()
        raise _Stop(signum)

    def _clean_up_after(self, previous: MeshPids) -> None:
        """Stop what a mesh whose launcher was killed left running, and say so."""
        stopped = stop_recorded_mesh(previous)
        (self.var / "mesh.pids").unlink(missing_ok=True)
        what = ", ".join(stopped) if stopped else "nothing was still running"
        self.console.print(
            f"[yellow]Cleaned up after a mesh whose launcher (pid {previous.supervisor.pid}) was killed:[/] {what}"
        )

    def _start(self) -> None:
        options = self.options
        self.var.mkdir(parents=True, exist_ok=True)
        (self.var / "mesh.json").unlink(missing_ok=True)
        admin_secret = load_or_create_admin_secret(self.var)

        external_database = os.environ.get(DATABASE_ENV)
        external_kafka = os.environ.get(KAFKA_ENV)
        postgres = None if external_database else EmbeddedPostgres(self.var / "postgres", port=options.pg_port)
        if postgres is not None and postgres.is_running() and not options.reset:
            # A previous run that died without cleaning up left it; adopting it is harmless.
            embedded_postgres_port_needed = False
        else:
            embedded_postgres_port_needed = postgres is not None
        external_postgis = os.environ.get(POSTGIS_DATABASE_ENV) or external_database
        postgis_server = EmbeddedPostgres(self.var / "postgis", port=options.postgis_port)
        problems = taken_ports(
            port_requests(
                options,
                embedded_postgres=embedded_postgres_port_needed,
                embedded_kafka=not external_kafka,
                embedded_postgis=not external_postgis and not postgis_server.is_running(),
            )
        )
        if problems:
            for problem in problems:
                self.console.print(f"[red]✖[/] {escape(str(problem))}", soft_wrap=True)
            hint = ""
            if read_pids(self.var) is not None:
                hint = f" (a previous mesh from {self.var} may have been left running: try `onesource down`)"
            raise MeshFailed(f"{len(problems)} port(s) taken; nothing was started{hint}")

        if postgres is not None:
            if options.reset:
                postgres.discard()
                self.console.print(f"[yellow]Reset:[/] deleted {postgres.cluster_dir}")
            with self.console.status("Starting PostgreSQL…"):
                self.postgres = postgres
                cleaned = postgres.start()
            for line in cleaned:
                self.console.print(f"[yellow]Cleaned up:[/] {escape(line)}")
            self.console.print(f"[green]✔[/] PostgreSQL on {HOST}:{options.pg_port} (data in {postgres.cluster_dir})")
            database_url = postgres.async_dsn("{database}")
            for spec in SERVICES:
                postgres.ensure_database(database_name(spec))
        else:
            assert external_database is not None
            database_url = async_database_template(external_database)
            with self.console.status("Creating databases on the external PostgreSQL…"):
                ensure_external_databases(external_database, [database_name(spec) for spec in SERVICES])
            self.console.print(f"[green]✔[/] PostgreSQL from {DATABASE_ENV}")
        postgis_url = self._start_postgis(external_postgis, reset=options.reset)
        started = [spec for spec in SERVICES if postgis_url is not None or not spec.postgis]
        self.console.print(f"[green]✔[/] databases {', '.join(database_name(spec) for spec in started)}")

        if external_kafka:
            bootstrap = external_kafka
            self.console.print(f"[green]✔[/] Kafka at {bootstrap} (from {KAFKA_ENV})")
        else:
            (self.logs / "kafka.log").unlink(missing_ok=True)
            self.kafka = EmbeddedKafka(port=options.kafka_port, host=HOST, log_path=self.logs / "kafka.log")
            with self.console.status("Starting the embedded Kafka broker (Tansu)…"):
                self.kafka.start()
            bootstrap = self.kafka.bootstrap
            self.console.print(f"[green]✔[/] Kafka (Tansu, in memory) on {bootstrap}")

        infra = InfraPlan(
            database_url=database_url,
            kafka_bootstrap=bootstrap,
            embedded_kafka=not external_kafka,
            admin_secret=admin_secret,
            postgis_database_url=postgis_url,
        )
        ports = plan_ports(options.gateway_port)
        urls = {name: url for name, url in service_urls(ports).items() if name in {spec.name for spec in started}}
        self.services = [
            ServiceProcess(
                spec,
                ports[spec.name],
                self.logs / f"{spec.name}.log",
                {**service_env(spec, infra, urls), **self._platform_env(spec, urls["gateway"])},
            )
            for spec in started
        ]
        for service in self.services:
            service.start()
        self._write_pids()
        self._wait_ready(self.services)
        relay = ServiceProcess(
            RELAY,
            options.gateway_port + RELAY.port_offset,
            self.logs / "relay.log",
            relay_env([service.spec for service in self.services], infra, urls),
        )
        relay.start()
        self.services.append(relay)
        self._write_pids()
        self._wait_ready([relay])

        demo_clients: list[DemoClient] = []
        if options.seed:
            demo_clients = self._seed(urls["gateway"], admin_secret)
        document = mesh_document(
            urls=urls, kafka_bootstrap=bootstrap, admin_secret=admin_secret, demo_clients=demo_clients
        )
        path = write_mesh_json(self.var, document)
        self._summary(urls, admin_secret, demo_clients, path)

    def _start_postgis(self, external: str | None, *, reset: bool) -> str | None:
        """The DSN template of the PostgreSQL with PostGIS (geo's), started when embedded; None without one."""
        needing = [database_name(spec) for spec in SERVICES if spec.postgis]
        if not needing:
            return None
        if external:
            ensure_external_databases(external, needing)
            return async_database_template(external)
        try:
            with self.console.status("Looking for a PostgreSQL with PostGIS (installing one when root)…"):
                binaries, done = postgis()
        except PostgisUnavailable as error:
            self.console.print(f"[yellow]⚠ {escape(str(error))}; geo is not started, the rest is.[/]", soft_wrap=True)
            return None
        for line in done:
            self.console.print(f"[yellow]Set-up:[/] {escape(line)}")
        server = EmbeddedPostgres(self.var / "postgis", port=self.options.postgis_port, binaries=binaries)
        if reset:
            server.discard()
        with self.console.status("Starting PostgreSQL with PostGIS…"):
            self.postgis = server
            cleaned = server.start()
        for line in cleaned:
            self.console.print(f"[yellow]Cleaned up:[/] {escape(line)}")
        for name in needing:
            server.ensure_database(name)
        where = f"on {HOST}:{server.port} for {', '.join(needing)} (data in {server.cluster_dir})"
        self.console.print(f"[green]✔[/] {binaries.label} {where}")
        return server.async_dsn("{database}")

    def _write_pids(self) -> None:
        services: dict[str, ProcessRecord] = {}
        for service in self.services:
            if service.pid is not None and service.exit_code() is None:  # an exited one waits to be restarted
                with contextlib.suppress(psutil.NoSuchProcess):
                    services[service.spec.name] = ProcessRecord.of(service.pid)
        kafka_pid = self.kafka.pid if self.kafka is not None else None
        write_pids(
            self.var,
            MeshPids(
                supervisor=ProcessRecord.of(os.getpid()),
                services=services,
                kafka=ProcessRecord.of(kafka_pid) if kafka_pid is not None else None,
                postgres_data_dir=str(self.postgres.data_dir) if self.postgres is not None else None,
                postgres_port=self.postgres.port if self.postgres is not None else None,
                postgis=(
                    PostgresRecord(str(self.postgis.data_dir), self.postgis.port, str(self.postgis.binaries.bin_dir))
                    if self.postgis is not None and self.postgis.binaries is not None
                    else None
                ),
            ),
        )

    def _wait_ready(self, processes: list[ServiceProcess]) -> None:
        progress = Progress(
            SpinnerColumn(finished_text="[green]✔[/]"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
        )
        tasks = {s.spec.name: progress.add_task(f"{s.spec.name} {s.url}", total=1) for s in processes}
        pending = list(processes)
        deadline = time.monotonic() + READY_TIMEOUT_S
        with progress, httpx.Client(timeout=2.0) as client:
            while pending:
                for service in list(pending):
                    code = service.exit_code()
                    if code is not None:
                        raise MeshFailed(
                            f"{service.spec.name} exited with code {code} while starting; "
                            f"last lines of {service.log_path}:\n{log_tail(service.log_path)}"
                        )
                    if probe_ready(client, service.url):
                        progress.update(tasks[service.spec.name], completed=1)
                        pending.remove(service)
                if pending and time.monotonic() > deadline:
                    failing = pending[0]
                    names = ", ".join(s.spec.name for s in pending)
                    raise MeshFailed(
                        f"not ready after {READY_TIMEOUT_S:.0f} s: {names}; "
                        f"last lines of {failing.log_path}:\n{log_tail(failing.log_path)}"
                    )
                if pending:
                    time.sleep(0.25)

    def _platform_env(self, spec: ServiceSpec, gateway_url: str) -> dict[str, str]:
        """A registry's own platform client, if it declares one (``seed_platform`` creates it and writes its secret)."""
        registry = next((found for found in registries() if found.service == spec.name), None)
        if registry is None or registry.client is None:
            return {}
        secret_file = client_secret_file(self.var.resolve() / "secrets", spec.name)
        return platform_env(spec, gateway_url, registry.client.client_id, secret_file)

    def _seed(self, gateway_url: str, admin_secret: str) -> list[DemoClient]:
        progress = Progress(
            SpinnerColumn(finished_text="[green]✔[/]"),
            TextColumn("Seeding demo data"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=self.console,
        )
        with progress, httpx.Client(base_url=gateway_url, timeout=30.0) as gateway:
            running = {service.spec.name for service in self.services}
            found = [registry for registry in registries() if registry.service in running]
            steps = seed_steps() + catalog_seed_steps(found) + platform_seed_steps(found) + record_seed_steps(found)
            task = progress.add_task("", total=steps)

            def advance(step: str) -> None:
                progress.update(task, advance=1, description=step)

            clients = seed_demo(gateway, admin_secret, advance)
            by_id = {client.client_id: client for client in clients}
            seed_catalog(gateway, by_id, advance, found=found)
            clients += seed_platform(gateway, self.var.resolve() / "secrets", advance, found=found)
            by_id = {client.client_id: client for client in clients}
            seed_records(gateway, by_id, advance, found=found)
            seed_subscriptions(gateway, by_id, advance, found=found)
            progress.update(task, description="done")
        return clients

    def _summary(self, urls: dict[str, str], admin_secret: str, clients: Sequence[DemoClient], path: Path) -> None:
        table = Table(title="OneSource mesh", title_justify="left")
        table.add_column("service")
        table.add_column("URL")
        table.add_column("status")
        table.add_column("log")
        for service in self.services:
            table.add_row(service.spec.name, service.url, "[green]ready[/]", str(service.log_path))
        self.console.print(table)
        if self.postgres is not None:
            self.console.print(f"PostgreSQL  {self.postgres.admin_dsn()}")
        kafka = self.kafka.bootstrap if self.kafka is not None else os.environ.get(KAFKA_ENV, "")
        self.console.print(f"Kafka       {kafka}")
        self.console.print(f"Admin       client_id [bold]admin[/]  client_secret [bold]{escape(admin_secret)}[/]")
        if clients:
            demo = Table(title="Demo clients", title_justify="left")
            for column in ("client_id", "department", "roles", "client_secret"):
                demo.add_column(column)
            for client in clients:
                demo.add_row(client.client_id, client.department, ", ".join(client.roles), client.client_secret)
            self.console.print(demo)
            # Lines, not a table: a narrow terminal would cut a table's password column short.
            self.console.print(f"\n[bold]Demo sign-ins at the portal[/] {urls.get('portal', '')}")
            for person in demo_users(admin_secret):
                roles = ", ".join(person["roles"])
                line = f"  {person['username']:<18} {person['password']}  ({person['department']}, {roles})"
                self.console.print(Text(line), soft_wrap=True)
        gateway = urls["gateway"]
        token_call = (
            f"export TOKEN=$(curl -s {gateway}/oauth/token -d grant_type=client_credentials -d client_id=admin "
            f"-d client_secret={shlex.quote(admin_secret)} "
            "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')"
        )
        departments_call = f'curl -s {gateway}/api/identity/v1/departments -H "Authorization: Bearer $TOKEN"'
        self.console.print("\n[bold]What to try first[/]")
        self.console.print(Text(token_call), soft_wrap=True)
        self.console.print(Text(departments_call), soft_wrap=True)
        self.console.print(f"\nEverything above is in {path}. Press Ctrl-C to stop the mesh.\n")

    def _watch(self) -> None:
        """Supervise: restart what exits (with backoff, giving up on a crash loop), and show the status line."""
        last: dict[str, str] = {}
        ready: dict[str, bool] = {service.spec.name: True for service in self.services}
        probed = 0.0
        with httpx.Client(timeout=1.5) as client, Live(console=self.console, auto_refresh=False) as live:
            while True:
                now = time.monotonic()
                changed = False
                for service in self.services:
                    happened = service.supervise(RESTART_POLICY, now)
                    if happened is not None:
                        changed = True
                        ready[service.spec.name] = False
                        self._report(service, happened)
                if changed:
                    self._write_pids()
                if changed or now - probed >= STATUS_REFRESH_S:
                    probed = now
                    for service in self.services:
                        if service.exit_code() is None and not service.gave_up:
                            ready[service.spec.name] = probe_ready(client, service.url)
                            if ready[service.spec.name]:
                                service.became_ready()
                    states = {
                        service.spec.name: self._state(service, ready[service.spec.name]) for service in self.services
                    }
                    write_health(self.var, {s.spec.name: s.health(ready[s.spec.name]) for s in self.services})
                    line = Text()
                    for name, state in states.items():
                        style = "green" if state.startswith("up") else "red"
                        line.append("● " if state.startswith("up") else "✖ ", style=style)
                        line.append(f"{name} {state}  ")
                    line.append(time.strftime("%H:%M:%S"), style="dim")
                    if self.console.is_terminal:
                        live.update(line, refresh=True)
                    elif states != last:
                        # Without a terminal Live shows nothing until the end; log changes instead.
                        self.console.print(line)
                    last = states
                time.sleep(SUPERVISE_S)

    def _report(self, service: ServiceProcess, happened: str) -> None:
        name = service.spec.name
        if happened == "exited":
            delay = max(0.0, (service.restart_at or 0.0) - time.monotonic())
            self.console.print(
                f"[yellow]↻ {name} exited ({service.last_exit}); restarting in {delay:.1f} s "
                f"(restart {service.restarts + 1}, see {service.log_path})[/]"
            )
        elif happened == "gave up":
            self.console.print(
                f"[bold red]✖ {name} exited ({service.last_exit}) {service.crashes_in_row} times in a row without "
                f"becoming ready: no more restarts. Last lines of {service.log_path}:[/]\n"
                f"{escape(log_tail(service.log_path))}"
            )

    @staticmethod
    def _state(service: ServiceProcess, ready: bool) -> str:
        restarts = f" ↻{service.restarts}" if service.restarts else ""
        if service.gave_up:
            return f"gave up after {service.crashes_in_row} crashes (exit {service.last_exit}), see {service.log_path}"
        if service.restart_at is not None or service.exit_code() is not None:
            return f"exited ({service.last_exit}), restarting{restarts}"
        return ("up" if ready else "not ready") + restarts

    def shutdown(self) -> None:
        """Stop services, then Kafka, then PostgreSQL; safe to call more than once."""
        if self._shut_down:
            return
        self._shut_down = True
        atexit.unregister(self.shutdown)
        _ignore_stop_signals()
        try:
            processes = [s.process for s in self.services if s.process is not None]
            if processes or self.kafka is not None or self.postgres is not None:
                self.console.print("[bold]Stopping the mesh…[/]")
            if processes:
                with self.console.status("Stopping services…"):
                    stop_processes(processes, grace=10.0)
            if self.kafka is not None:
                self.kafka.stop()
            for server in (self.postgres, self.postgis):
                if server is not None:
                    with self.console.status("Stopping PostgreSQL…"):
                        server.stop()
            if processes or self.kafka is not None or self.postgres is not None:
                (self.var / "mesh.pids").unlink(missing_ok=True)
                (self.var / "mesh.json").unlink(missing_ok=True)
                (self.var / "mesh.health.json").unlink(missing_ok=True)
                self.console.print("[bold]Mesh stopped.[/]")
        finally:
            for signum, handler in self._previous_handlers.items():
                signal.signal(signum, handler)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _ignore_stop_signals() -> None:
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def stop_recorded_mesh(pids: MeshPids) -> list[str]:
    """Stop every process of a recorded mesh whose launcher is gone; the names of what still ran."""
    stopped = []
    for name, record in [*pids.services.items(), ("kafka", pids.kafka)]:
        if record is not None and record.alive():
            _kill_group(record)
            stopped.append(name)
    if pids.postgres_data_dir is not None and pids.postgres_port is not None:
        postgres = EmbeddedPostgres(Path(pids.postgres_data_dir), port=pids.postgres_port)
        if postgres.is_running():
            postgres.stop()
            stopped.append("PostgreSQL")
    if pids.postgis is not None:
        binaries = PostgresBinaries(Path(pids.postgis.bin_dir), 0, "PostgreSQL with PostGIS")
        server = EmbeddedPostgres(Path(pids.postgis.data_dir), port=pids.postgis.port, binaries=binaries)
        if server.is_running():
            server.stop()
            stopped.append("PostgreSQL with PostGIS")
    return stopped


def _migrate(service: str, revision: str, console: Console) -> int:
    from onesource.mesh.operations import migrate

    try:
        target = migrate(service, revision)
    except ValueError as error:
        console.print(f"[red]{escape(str(error))}[/red]")
        return 2
    console.print(f"[green]migrated[/green] {service} to {revision} on {escape(target)}")
    return 0


def _contracts(out: Path, console: Console, *, check: bool) -> int:
    from onesource.mesh.operations import contract_drift, write_contracts

    if check:
        drift = contract_drift(out)
        for path in drift:
            console.print(f"[red]out of date:[/red] {out / path}")
        if drift:
            console.print("run [bold]make contracts[/bold] and commit the result")
        return 1 if drift else 0
    for written in write_contracts(out):
        console.print(f"wrote {written}")
    return 0


def _audit_verify(arguments: argparse.Namespace, console: Console) -> int:
    from onesource.mesh.audit import AuditTarget, print_report, verify_over_http, verify_with_dsn

    # Secrets come from the environment, never the command line (which other users can read in `ps`).
    try:
        if arguments.dsn_env:
            dsn = os.environ.get(arguments.dsn_env)
            if not dsn:
                console.print(f"[red]{arguments.dsn_env} is not set[/]")
                return 2
            report = verify_with_dsn(dsn)
        else:
            if arguments.gateway:
                secret = os.environ.get(arguments.client_secret_env, "")
                if not secret:
                    console.print(f"[red]{arguments.client_secret_env} is not set[/]")
                    return 2
                target = AuditTarget(arguments.gateway, arguments.client_id, secret)
            else:
                target = AuditTarget.from_mesh(Path(arguments.var).absolute())
            report = verify_over_http(target)
    except (FileNotFoundError, RuntimeError, httpx.HTTPError) as error:
        console.print(f"[red]{escape(str(error))}[/]")
        return 2
    return print_report(report, console)


def _status(var: Path, console: Console) -> int:
    path = var / "mesh.json"
    if not path.exists():
        console.print(f"No mesh is running from {var} ({path} does not exist). Start one with [bold]onesource up[/].")
        return 1
    document = json.loads(path.read_text(encoding="utf-8"))
    health = read_health(var)
    table = Table(title=f"OneSource mesh ({path})", title_justify="left")
    table.add_column("service")
    table.add_column("URL")
    table.add_column("readyz")
    table.add_column("restarts")
    all_ready = True
    # The relay answers probes too, though it is no service of mesh.json's (pinned) list.
    urls = {**document["services"], **{name: str(entry["url"]) for name, entry in health.items() if "url" in entry}}
    with httpx.Client(timeout=2.0) as client:
        for name, url in urls.items():
            ready = probe_ready(client, url)
            all_ready &= ready
            entry = health.get(name, {})
            restarts = str(entry.get("restarts", 0))
            if entry.get("state") == "gave up":
                restarts += f" [red](gave up, last exit {entry.get('last_exit')})[/]"
            elif entry.get("last_exit") is not None:
                restarts += f" (last exit {entry.get('last_exit')})"
            table.add_row(name, url, "[green]ready[/]" if ready else "[red]not ready[/]", restarts)
    console.print(table)
    console.print(f"Kafka {document['kafka_bootstrap']}")
    return 0 if all_ready else 1


def _down(var: Path, console: Console) -> int:
    pids = read_pids(var)
    if pids is None:
        console.print(f"No mesh recorded in {var / 'mesh.pids'}; nothing to stop.")
        return 0
    if pids.supervisor.alive() and pids.supervisor.pid != os.getpid():
        console.print(f"Asking the mesh supervisor (pid {pids.supervisor.pid}) to stop…")
        os.kill(pids.supervisor.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while pids.supervisor.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        if not pids.supervisor.alive():
            console.print("[bold]Mesh stopped.[/]")
            return 0
        console.print("[yellow]The supervisor did not stop in 30 s; stopping its processes directly.[/]")
    # The supervisor is gone (killed, crashed): stop what it left behind.
    stopped = stop_recorded_mesh(pids)
    if stopped:
        console.print(f"Stopped what the mesh left running: {', '.join(stopped)}")
    (var / "mesh.pids").unlink(missing_ok=True)
    (var / "mesh.json").unlink(missing_ok=True)
    (var / "mesh.health.json").unlink(missing_ok=True)
    console.print("[bold]Mesh stopped.[/]")
    return 0


def _kill_group(record: ProcessRecord, grace: float = 10.0) -> None:
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(record.pid, signum)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + grace
        while record.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not record.alive():
            return


if __name__ == "__main__":
    sys.exit(main())
