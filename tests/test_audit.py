"""The audit chain of a running mesh: an entry changed in the database is detected, over HTTP and by the CLI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import asyncpg
import httpx

from tests.conftest import Mesh, eventually
from tests.test_flow import PURPOSE, Department, read_person, request_share, some_person


async def _tamper(dsn: str, sql: str, *args: Any) -> Any:
    # As an attacker with the database's admin rights: replica mode skips the append-only triggers.
    connection = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role = replica")
            return await connection.fetchrow(sql, *args)
    finally:
        await connection.close()


def _verify(mesh: Mesh) -> dict[str, Any]:
    response = httpx.get(f"{mesh.gateway}/api/audit/v1/verify", headers=mesh.bearer("admin"), timeout=60)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def _cli(mesh: Mesh) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onesource.mesh", "audit", "verify", "--var", str(mesh.var)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_changed_entry_is_detected_and_named(mesh: Mesh) -> None:
    department = Department(mesh)
    person = some_person(mesh, 5)
    request_share(mesh, department, "population.person", ["id_number", "name"])
    eventually(lambda: read_person(mesh, person["id_number"], department.headers()).status_code == 200)
    assert _verify(mesh)["ok"] is True
    intact = _cli(mesh)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "intact" in intact.stdout

    gateway_db = mesh.dsn("gateway")
    row = asyncio.run(
        _tamper(
            gateway_db,
            "UPDATE audit_entry SET purpose = $1 WHERE seq = (SELECT max(seq) FROM audit_entry"
            " WHERE purpose = $2 AND client_id = $3) RETURNING seq",
            "例行检查",
            PURPOSE,
            department.client_id(),
        )
    )
    tampered = row["seq"]
    try:
        report = _verify(mesh)
        assert report["ok"] is False
        assert any(problem["seq"] == tampered for problem in report["problems"]), report["problems"]
        detected = _cli(mesh)
        assert detected.returncode == 1, detected.stdout + detected.stderr
        assert "TAMPERED" in detected.stdout
        assert f"seq {tampered}" in detected.stdout
    finally:
        asyncio.run(_tamper(gateway_db, "UPDATE audit_entry SET purpose = $1 WHERE seq = $2", PURPOSE, tampered))
    assert _verify(mesh)["ok"] is True
