"""`onesource up` from the outside, as a developer uses it: the whole mesh on embedded infrastructure.

Done-when of the foundation: every service ready, `var/mesh.json` as pinned, the admin can get a token,
create a department and a client, that client can get a token, and Ctrl-C leaves no process behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from onesource.kit.embedded import find_free_port, port_is_free
from onesource.mesh.services import SERVICES

ADMIN_SECRET = "mesh-test-" + uuid.uuid4().hex


def free_gateway_port() -> int:
    offsets = [spec.port_offset for spec in SERVICES]
    for _ in range(50):
        base = find_free_port()
        if base + max(offsets) < 65535 and all(port_is_free("127.0.0.1", base + o) for o in offsets):
            return base
    raise RuntimeError("no free block of ports for the mesh")


@dataclass
class Mesh:
    process: subprocess.Popen[bytes]
    var: Path
    document: dict[str, object]


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    var = tmp_path_factory.mktemp("mesh") / "var"
    env = {**os.environ, "ONESOURCE_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET}
    if os.environ.get("ONESOURCE_TEST_DATABASE_URL"):
        env["ONESOURCE_MESH_DATABASE_URL"] = os.environ["ONESOURCE_TEST_DATABASE_URL"]
    log = (var.parent / "up.log").open("wb")
    command = [
        sys.executable, "-m", "onesource.mesh", "up", "--var", str(var),
        "--pg-port", str(find_free_port()), "--kafka-port", str(find_free_port()),
        "--gateway-port", str(free_gateway_port()),
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    mesh_json = var / "mesh.json"
    deadline = time.monotonic() + 180
    while not mesh_json.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"onesource up did not come up:\n{(var.parent / 'up.log').read_text()[-4000:]}")
        time.sleep(0.5)
    try:
        yield Mesh(process, var, json.loads(mesh_json.read_text()))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()


def token(gateway: str, client_id: str, secret: str) -> str:
    response = httpx.post(
        f"{gateway}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    return str(body["access_token"])


def test_mesh_json_is_as_pinned(mesh: Mesh) -> None:
    document = mesh.document
    assert set(document) == {"gateway", "kafka_bootstrap", "services", "admin", "demo_clients"}
    assert set(document["services"]) == {spec.name for spec in SERVICES}  # type: ignore[arg-type]
    assert document["admin"] == {"client_id": "admin", "client_secret": ADMIN_SECRET}
    clients = document["demo_clients"]
    assert isinstance(clients, list)
    assert {client["department"] for client in clients} >= {"psb", "amr", "nrb", "stats", "bdb", "mca"}
    for client in clients:
        assert set(client) == {"client_id", "client_secret", "department", "roles"}


def test_every_service_is_ready(mesh: Mesh) -> None:
    services = mesh.document["services"]
    assert isinstance(services, dict)
    for name, url in services.items():
        response = httpx.get(f"{url}/readyz")
        assert response.status_code == 200, f"{name}: {response.text}"
        assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_admin_creates_a_department_and_a_client_that_gets_a_token(mesh: Mesh) -> None:
    gateway = str(mesh.document["gateway"])
    admin = {"Authorization": f"Bearer {token(gateway, 'admin', ADMIN_SECRET)}"}
    code = f"d{uuid.uuid4().hex[:8]}"
    department = httpx.post(
        f"{gateway}/api/identity/v1/departments",
        headers=admin,
        json={"code": code, "name": "人力资源和社会保障局", "uscc": "11110000000011076F"},
    )
    assert department.status_code == 201, department.text
    client = httpx.post(
        f"{gateway}/api/identity/v1/clients",
        headers=admin,
        json={"department": code, "name": "社保业务系统", "roles": ["consumer"]},
    )
    assert client.status_code == 201, client.text
    created = client.json()
    own = token(gateway, created["client_id"], created["client_secret"])
    listed = httpx.get(f"{gateway}/api/identity/v1/departments", headers={"Authorization": f"Bearer {own}"})
    assert listed.status_code == 200
    assert code in {item["code"] for item in listed.json()["items"]}


def test_demo_clients_get_tokens_and_the_gateway_forwards(mesh: Mesh) -> None:
    gateway = str(mesh.document["gateway"])
    clients = mesh.document["demo_clients"]
    assert isinstance(clients, list)
    consumer = next(client for client in clients if "consumer" in client["roles"])
    bearer = {"Authorization": f"Bearer {token(gateway, consumer['client_id'], consumer['client_secret'])}"}
    forwarded = httpx.get(f"{gateway}/api/population/healthz", headers=bearer)
    assert forwarded.status_code == 200
    assert forwarded.json()["service"] == "population"


def test_synthetic_persons_are_seeded_for_the_owner(mesh: Mesh) -> None:
    gateway = str(mesh.document["gateway"])
    clients = mesh.document["demo_clients"]
    assert isinstance(clients, list)
    registrar = next(client for client in clients if client["client_id"] == "psb-registrar")
    bearer = {
        "Authorization": f"Bearer {token(gateway, registrar['client_id'], registrar['client_secret'])}",
        "X-OneSource-Purpose": "registry maintenance",
    }
    listed = httpx.get(f"{gateway}/api/population/v1/persons", params={"limit": 200}, headers=bearer)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert len(page["items"]) == 200
    assert page["next_cursor"]
    one = page["items"][0]["id_number"]
    read = httpx.get(f"{gateway}/api/population/v1/persons/{one}", headers=bearer)
    assert read.status_code == 200
    assert read.json()["id_number"] == one


def test_ctrl_c_stops_everything(mesh: Mesh) -> None:
    children = psutil.Process(mesh.process.pid).children(recursive=True)
    assert len(children) >= len(SERVICES) + 1, "every service and the broker run as processes of the mesh"
    mesh.process.send_signal(signal.SIGINT)
    assert mesh.process.wait(60) == 0
    time.sleep(0.5)
    left = [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
    assert left == [], f"left behind: {[child.cmdline() for child in left]}"
    postgres = [
        process
        for process in psutil.process_iter(["cmdline"])
        if str(mesh.var) in " ".join(process.info["cmdline"] or [])
    ]
    assert postgres == [], "the embedded PostgreSQL of this mesh stopped too"
