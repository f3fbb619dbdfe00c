"""Running the mesh: infrastructure choice, port checks, service processes, readiness and shutdown."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from onesource.kit.embedded import PortInUse, die_with_parent, ensure_database_at, port_is_free
from onesource.mesh.services import HOST, ServiceSpec

__all__ = [
    "DATABASE_ENV",
    "KAFKA_ENV",
    "POSTGIS_DATABASE_ENV",
    "PortRequest",
    "RestartPolicy",
    "ServiceProcess",
    "async_database_template",
    "ensure_external_databases",
    "log_tail",
    "probe_ready",
    "stop_processes",
    "taken_ports",
]

DATABASE_ENV = "ONESOURCE_MESH_DATABASE_URL"
#: The server with PostGIS for geo's database; without it, geo's database is on ``DATABASE_ENV``'s server too.
POSTGIS_DATABASE_ENV = "ONESOURCE_MESH_POSTGIS_DATABASE_URL"
KAFKA_ENV = "ONESOURCE_KAFKA_BOOTSTRAP"
GATEWAY_PORT_HINT = (
    "--gateway-port (the other services sit at fixed offsets +1, +2, +101…+104 and the relay at +200 from it)"
)


@dataclass(frozen=True, slots=True)
class PortRequest:
    """A port the mesh is about to bind, who wants it, and how to change it."""

    port: int
    wanted_by: str
    change_with: str


def taken_ports(requests: Iterable[PortRequest], host: str = HOST) -> list[PortInUse]:
    """The requests whose port is already taken, as errors that explain how to pick another."""
    return [
        PortInUse(request.port, request.wanted_by, request.change_with, host)
        for request in requests
        if not port_is_free(host, request.port)
    ]


def async_database_template(admin_dsn: str) -> str:
    """Turn an admin DSN (`postgresql://user:pw@host:port/postgres`) into an asyncpg DSN template for `{database}`."""
    parts = urlsplit(admin_dsn)
    if parts.scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise ValueError(f"{DATABASE_ENV} must be a postgresql:// URL, not {parts.scheme}://")
    return urlunsplit(("postgresql+asyncpg", parts.netloc, "/{database}", parts.query, ""))


def ensure_external_databases(admin_dsn: str, names: Sequence[str]) -> None:
    """Create each database in `names` on the server `admin_dsn` points at, unless it exists."""
    libpq_dsn = admin_dsn.replace("postgresql+asyncpg://", "postgresql://", 1)
    for name in names:
        ensure_database_at(libpq_dsn, name)


def log_tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a log file."""
    if not path.exists():
        return f"({path} does not exist)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:]) or f"({path} is empty)"


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """How `onesource up` restarts a service that exited: after a growing delay, until it crash-loops.

    A crash counts against the service only while it has not become ready since its last start: a service killed
    after it ran is restarted however often that happens; one that cannot start is given up after ``give_up_after``
    starts in a row that never became ready.
    """

    first_delay: float = 0.5
    max_delay: float = 15.0
    give_up_after: int = 8
    """With the delays above, about 45 s of crashing: a service waiting out its database's restart is not given up."""

    def delay(self, crashes_in_row: int) -> float:
        """Seconds to wait before the next start, after ``crashes_in_row`` (≥ 1) crashes without becoming ready."""
        return float(min(self.max_delay, self.first_delay * 2 ** max(0, crashes_in_row - 1)))


@dataclass(slots=True)
class ServiceProcess:
    """One service of the mesh running under uvicorn in its own process group, restarted when it exits."""

    spec: ServiceSpec
    port: int
    log_path: Path
    env: Mapping[str, str]
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    restarts: int = field(default=0, init=False)
    """How often it was started again after it exited."""
    crashes_in_row: int = field(default=0, init=False)
    """Exits since it last became ready (reset when a probe finds it ready)."""
    last_exit: int | None = field(default=None, init=False)
    """The exit code of its last exit (negative: killed by that signal)."""
    restart_at: float | None = field(default=None, init=False)
    """When (``time.monotonic()``) it is due to start again, while it waits to."""
    gave_up: bool = field(default=False, init=False)
    """It crash-looped: no more restarts."""

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id, or None before start."""
        return self.process.pid if self.process is not None else None

    def start(self, *, restart: bool = False) -> None:
        """Spawn uvicorn for the service; its log starts afresh, except on a restart (the crash stays readable)."""
        args = [
            sys.executable, "-m", "uvicorn", "--factory", self.spec.app_factory,
            "--host", HOST, "--port", str(self.port), "--no-access-log",
        ]  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab" if restart else "wb") as log:
            if restart:
                log.write(f"--- onesource up: restart {self.restarts} after exit {self.last_exit} ---\n".encode())
                log.flush()
            self.process = subprocess.Popen(
                args,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own group: Ctrl-C reaches only the CLI, which then stops services in order.
                start_new_session=True,
                # And gone with the CLI when it is killed outright, so the next start finds its ports free.
                preexec_fn=die_with_parent(),
            )

    def exit_code(self) -> int | None:
        """The exit code once the process has ended, else None."""
        return self.process.poll() if self.process is not None else None

    def supervise(self, policy: RestartPolicy, now: float) -> str | None:
        """One look at the process: note an exit, restart when due.

        Returns what happened (``exited``, ``restarted``, ``gave up``), or None when nothing did.
        """
        if self.gave_up:
            return None
        if self.restart_at is not None:
            if now < self.restart_at:
                return None
            self.restart_at = None
            self.restarts += 1
            self.start(restart=True)
            return "restarted"
        code = self.exit_code()
        if code is None:
            return None
        self.last_exit = code
        self.crashes_in_row += 1
        if self.crashes_in_row >= policy.give_up_after:
            self.gave_up = True
            return "gave up"
        self.restart_at = now + policy.delay(self.crashes_in_row)
        return "exited"

    def became_ready(self) -> None:
        """A probe found it ready: earlier exits no longer count towards giving up."""
        self.crashes_in_row = 0

    def health(self, ready: bool) -> dict[str, object]:
        """Its line of ``var/mesh.health.json``: state, restarts, last exit, URL."""
        if self.gave_up:
            state = "gave up"
        elif self.restart_at is not None or self.exit_code() is not None:
            state = "restarting"
        else:
            state = "up" if ready else "not ready"
        return {"url": self.url, "state": state, "restarts": self.restarts, "last_exit": self.last_exit}


def probe_ready(client: httpx.Client, url: str) -> bool:
    """Return True when `GET <url>/readyz` answers 200."""
    try:
        return client.get(f"{url}/readyz").status_code == 200
    except httpx.HTTPError:
        return False


def stop_processes(processes: Sequence[subprocess.Popen[bytes]], grace: float = 10.0) -> None:
    """SIGTERM each process group, give them `grace` seconds together, then SIGKILL what is left."""
    for process in processes:
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    for process in processes:
        # Also reaches grandchildren (uvicorn reload/workers) that outlived their leader.
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
