"""Files the local mesh keeps under `var/`: `mesh.json` (pinned), `mesh.pids`, `mesh.health.json`, `admin-secret`."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from onesource.mesh.seed import DemoClient, demo_users

__all__ = [
    "ADMIN_SECRET_ENV",
    "MeshPids",
    "PostgresRecord",
    "ProcessRecord",
    "load_or_create_admin_secret",
    "mesh_document",
    "read_health",
    "read_pids",
    "write_health",
    "write_mesh_json",
    "write_pids",
    "write_private",
]

ADMIN_SECRET_ENV = "ONESOURCE_BOOTSTRAP_ADMIN_SECRET"


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable only by its owner, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def load_or_create_admin_secret(var_dir: Path, environ: Mapping[str, str] = os.environ) -> str:
    """The bootstrap admin secret: from the environment, else the one kept in `var/admin-secret` (made once)."""
    from_env = environ.get(ADMIN_SECRET_ENV)
    if from_env:
        return from_env
    path = var_dir / "admin-secret"
    if path.exists():
        kept = path.read_text(encoding="utf-8").strip()
        if kept:
            return kept
    generated = secrets.token_urlsafe(24)
    write_private(path, generated + "\n")
    return generated


def mesh_document(
    *,
    urls: Mapping[str, str],
    kafka_bootstrap: str,
    admin_secret: str,
    demo_clients: Sequence[DemoClient],
) -> dict[str, Any]:
    """The pinned `var/mesh.json` content.

    Demo people are listed when the demo was seeded (there are demo clients); their passwords derive from the admin
    secret (`seed.demo_password`).
    """
    return {
        "gateway": urls["gateway"],
        "portal": urls.get("portal"),
        "kafka_bootstrap": kafka_bootstrap,
        "services": dict(urls),
        "admin": {"client_id": "admin", "client_secret": admin_secret},
        "demo_clients": [client.as_json() for client in demo_clients],
        "demo_users": demo_users(admin_secret) if demo_clients else [],
    }


def write_mesh_json(var_dir: Path, document: Mapping[str, Any]) -> Path:
    """Write `var/mesh.json` (mode 600: it holds secrets) and return its path."""
    path = var_dir / "mesh.json"
    write_private(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return path


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """A process id with its start time, so a recycled pid is never mistaken for ours."""

    pid: int
    created: float

    @classmethod
    def of(cls, pid: int) -> ProcessRecord:
        """Record the running process `pid`."""
        return cls(pid, psutil.Process(pid).create_time())

    def alive(self) -> bool:
        """Return True while this very process still runs."""
        try:
            process = psutil.Process(self.pid)
            return process.create_time() == self.created and process.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False


@dataclass(frozen=True, slots=True)
class PostgresRecord:
    """An embedded PostgreSQL server of the mesh: where its data is, its port, and whose binaries run it."""

    data_dir: str
    port: int
    bin_dir: str


@dataclass(slots=True)
class MeshPids:
    """What `onesource down` needs to stop a mesh whose supervisor may be gone."""

    supervisor: ProcessRecord
    services: dict[str, ProcessRecord] = field(default_factory=dict)
    """Service name → process; each leads its own process group."""
    kafka: ProcessRecord | None = None
    postgres_data_dir: str | None = None
    postgres_port: int | None = None
    postgis: PostgresRecord | None = None
    """The server with PostGIS (geo's database), when the mesh started one."""


def _record_json(record: ProcessRecord | None) -> dict[str, Any] | None:
    return None if record is None else {"pid": record.pid, "created": record.created}


def _record(document: Any) -> ProcessRecord | None:
    return None if document is None else ProcessRecord(int(document["pid"]), float(document["created"]))


def write_pids(var_dir: Path, pids: MeshPids) -> None:
    """Record the running mesh in `var/mesh.pids`."""
    document = {
        "supervisor": _record_json(pids.supervisor),
        "services": {name: _record_json(record) for name, record in pids.services.items()},
        "kafka": _record_json(pids.kafka),
        "postgres_data_dir": pids.postgres_data_dir,
        "postgres_port": pids.postgres_port,
        "postgis": None
        if pids.postgis is None
        else {"data_dir": pids.postgis.data_dir, "port": pids.postgis.port, "bin_dir": pids.postgis.bin_dir},
    }
    write_private(var_dir / "mesh.pids", json.dumps(document, indent=2) + "\n")


def read_pids(var_dir: Path) -> MeshPids | None:
    """The recorded mesh, or None when there is none (or the file is unreadable)."""
    path = var_dir / "mesh.pids"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        supervisor = _record(document["supervisor"])
        if supervisor is None:
            return None
        services = {str(name): _record(record) for name, record in document.get("services", {}).items()}
        return MeshPids(
            supervisor=supervisor,
            services={name: record for name, record in services.items() if record is not None},
            kafka=_record(document.get("kafka")),
            postgres_data_dir=document.get("postgres_data_dir"),
            postgres_port=document.get("postgres_port"),
            postgis=None if document.get("postgis") is None else PostgresRecord(**document["postgis"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_health(var_dir: Path, services: Mapping[str, Mapping[str, Any]]) -> None:
    """Record what the supervisor knows of each service (state, restarts, last exit) for `onesource status`."""
    write_private(var_dir / "mesh.health.json", json.dumps(services, indent=2) + "\n")


def read_health(var_dir: Path) -> dict[str, dict[str, Any]]:
    """The supervisor's last record of each service; empty when there is none (or it is unreadable)."""
    try:
        document = json.loads((var_dir / "mesh.health.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict):
        return {}
    return {str(name): entry for name, entry in document.items() if isinstance(entry, dict)}
