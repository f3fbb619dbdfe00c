"""`onesource up` from the outside, as a developer uses it: the whole mesh on embedded infrastructure.

Done-when of the foundation: every service ready, `var/mesh.json` as pinned, the admin can get a token,
create a department and a client, that client can get a token, and Ctrl-C leaves no process behind.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator

import httpx
import psutil
import pytest

from onesource.mesh.services import SERVICES
from tests.conftest import ADMIN_SECRET, Mesh


def test_mesh_json_is_as_pinned(mesh: Mesh) -> None:
    document = mesh.document
    assert set(document) == {"gateway", "portal", "kafka_bootstrap", "services", "admin", "demo_clients", "demo_users"}
    assert document["portal"] == document["services"]["portal"]
    assert {user["department"] for user in document["demo_users"]} >= {"psb", "amr", "nrb", "stats", "bdb", "mca"}
    assert set(document["services"]) == {spec.name for spec in SERVICES}
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
        # The portal holds no data: its one dependency is the gateway.
        expected = {"gateway": "ok"} if name == "portal" else {"database": "ok", "broker": "ok"}
        assert response.json()["checks"] == expected


def test_admin_creates_a_department_and_a_client_that_gets_a_token(mesh: Mesh) -> None:
    gateway = str(mesh.document["gateway"])
    admin = {"Authorization": f"Bearer {mesh.token('admin', ADMIN_SECRET)}"}
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
    own = mesh.token(created["client_id"], created["client_secret"])
    listed = httpx.get(f"{gateway}/api/identity/v1/departments", headers={"Authorization": f"Bearer {own}"})
    assert listed.status_code == 200
    assert code in {item["code"] for item in listed.json()["items"]}


def test_demo_clients_get_tokens_and_the_gateway_forwards(mesh: Mesh) -> None:
    gateway = str(mesh.document["gateway"])
    clients = mesh.document["demo_clients"]
    assert isinstance(clients, list)
    consumer = next(client for client in clients if "consumer" in client["roles"])
    bearer = {"Authorization": f"Bearer {mesh.token(consumer['client_id'], consumer['client_secret'])}"}
    forwarded = httpx.get(f"{gateway}/api/catalog/healthz", headers=bearer)
    assert forwarded.status_code == 200
    assert forwarded.json()["service"] == "catalog"


def test_synthetic_persons_are_seeded_for_the_owner(mesh: Mesh) -> None:
    gateway = str(mesh.document["gateway"])
    clients = mesh.document["demo_clients"]
    assert isinstance(clients, list)
    registrar = next(client for client in clients if client["client_id"] == "psb-registrar")
    bearer = {
        "Authorization": f"Bearer {mesh.token(registrar['client_id'], registrar['client_secret'])}",
        "X-OneSource-Purpose": "registry-maintenance",
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


def test_a_bulk_import_larger_than_a_request_body_streams_through_the_gateway(mesh: Mesh) -> None:
    from onesource.population.demo import PersonFactory, to_csv

    gateway = str(mesh.document["gateway"])
    bearer = mesh.bearer("psb-registrar", "registry-maintenance")
    people = list(PersonFactory(seed=int(time.time())).persons(12_000))
    upload = b"".join(to_csv(people))
    assert len(upload) > 1_048_576, "more than the gateway holds of any other request"

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(upload), 65536):
            yield upload[start : start + 65536]

    response = httpx.post(
        f"{gateway}/api/population/v1/imports",
        content=pieces(),
        headers={**bearer, "Content-Type": "text/csv"},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    report = response.json()
    # Random persons may, rarely, share an ID number with one the mesh registered before: only such rows are refused.
    assert (report["rows_read"], report["accepted"] + report["rejected"]) == (12_000, 12_000)
    assert {error["reason"] for error in report["errors"]} <= {"a person with this ID number is already registered"}
    assert report["rejected"] <= 10
    refused_ids = {error["id_number"] for error in report["errors"]}
    last = next(person for person in reversed(people) if person["id_number"] not in refused_ids)
    read = httpx.get(f"{gateway}/api/population/v1/persons/{last['id_number']}", headers=bearer)
    assert read.status_code == 200
    assert read.json()["name"] == last["name"]
    consumer = mesh.bearer("mca-app", "registry-maintenance")
    refused = httpx.post(
        f"{gateway}/api/population/v1/imports", content=pieces(), headers={**consumer, "Content-Type": "text/csv"}
    )
    assert refused.status_code == 404, "only the owner reaches its registry's endpoints that no resource covers"
    assert refused.json()["type"].endswith("/not-covered")


@pytest.mark.stops_mesh
def test_ctrl_c_stops_everything(mesh: Mesh) -> None:
    children = psutil.Process(mesh.process.pid).children(recursive=True)
    assert len(children) >= len(SERVICES) + 1, "every service and the broker run as processes of the mesh"
    cluster = (mesh.var / "postgres").resolve()  # as root, a directory its system user can reach
    assert os.environ.get("ONESOURCE_TEST_DATABASE_URL") or (cluster / "postmaster.pid").exists()
    mesh.process.send_signal(signal.SIGINT)
    assert mesh.process.wait(60) == 0
    time.sleep(0.5)
    left = [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
    assert left == [], f"left behind: {[child.cmdline() for child in left]}"
    postgres = [
        process
        for process in psutil.process_iter(["cmdline"])
        if str(cluster) in " ".join(process.info["cmdline"] or [])
    ]
    assert postgres == [], "the embedded PostgreSQL of this mesh stopped too"
