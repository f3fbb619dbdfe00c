"""`onesource audit verify`: check the gateway's audit chain and print what was found.

Two ways in: through the running mesh's gateway (``GET /api/audit/v1/verify`` as the admin, from ``var/mesh.json``
or explicit credentials), or straight on the gateway's database (``--dsn``) for an auditor who must not depend on
the gateway being up or honest. Either way the chain is recomputed entry by entry; the exit code is 0 only when
it is intact.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["AuditTarget", "print_report", "verify_over_http", "verify_with_dsn"]


@dataclass(frozen=True, slots=True)
class AuditTarget:
    """Where the gateway is and who asks it."""

    gateway: str
    client_id: str
    client_secret: str

    @classmethod
    def from_mesh(cls, var: Path) -> AuditTarget:
        """The running local mesh's gateway and admin, from ``var/mesh.json``."""
        path = var / "mesh.json"
        if not path.exists():
            raise FileNotFoundError(f"no mesh is running from {var} ({path} does not exist)")
        document = json.loads(path.read_text(encoding="utf-8"))
        admin = document["admin"]
        return cls(document["gateway"], admin["client_id"], admin["client_secret"])


def verify_over_http(target: AuditTarget, *, timeout: float = 300.0) -> dict[str, Any]:
    """The gateway's verification report (``GET /api/audit/v1/verify``), as an admin."""
    with httpx.Client(base_url=target.gateway, timeout=timeout) as gateway:
        issued = gateway.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(target.client_id, target.client_secret),
        )
        if issued.status_code != 200:
            raise RuntimeError(f"token for {target.client_id}: HTTP {issued.status_code} {issued.text[:300]}")
        bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
        response = gateway.get("/api/audit/v1/verify", headers=bearer)
        if response.status_code != 200:
            raise RuntimeError(f"GET /api/audit/v1/verify: HTTP {response.status_code} {response.text[:300]}")
        report: dict[str, Any] = response.json()
        return report


def verify_with_dsn(dsn: str) -> dict[str, Any]:
    """Recompute the chain straight from the gateway's database (``postgresql+asyncpg://…``)."""
    # The mesh installs every service; only this path needs the gateway's code.
    from onesource.gateway.audit.verification import verify_database

    report = asyncio.run(verify_database(dsn))
    return report.as_json()


def print_report(report: dict[str, Any], console: Console) -> int:
    """Print a report as a table; 0 when the chain is intact, 1 otherwise."""
    table = Table(title="Audit chain", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_row("verdict", "[green]intact[/]" if report["ok"] else "[red]TAMPERED[/]")
    table.add_row("entries", f"{report['entries']:,}")
    table.add_row("head", f"seq {report['head_seq']}  {report['head_hash']}")
    table.add_row("signed checkpoints verified", str(report["checkpoints"]))
    console.print(table)
    for problem in report.get("problems", []):
        what = escape(f"{problem.get('kind')}: {problem.get('detail', '')}")
        console.print(f"[red]seq {problem.get('seq')}[/] {what}")
    return 0 if report["ok"] else 1
