"""The running mesh (`onesource up`) that the cross-service tests drive from the outside, as a department would."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from onesource.kit.embedded import find_free_port
from onesource.mesh.services import SERVICES
from onesource.mesh.supervisor import async_database_template
from tests.mesh_process import MeshDidNotStart, start_mesh, stop_mesh

ADMIN_SECRET = "mesh-test-" + uuid.uuid4().hex


@dataclass
class Mesh:
    """A running mesh: its process, state directory, `mesh.json`, and where its databases are."""

    process: subprocess.Popen[bytes]
    var: Path
    document: dict[str, Any]
    database_template: str
    """Async DSN with `{database}` for the per-service database name."""
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return str(self.document["gateway"])

    def client(self, client_id: str) -> dict[str, Any]:
        """A demo client from `mesh.json` (or the admin)."""
        if client_id == "admin":
            return {**self.document["admin"], "department": "", "roles": ["admin"]}
        clients: list[dict[str, Any]] = self.document["demo_clients"]
        return next(client for client in clients if client["client_id"] == client_id)

    def token(self, client_id: str, secret: str | None = None) -> str:
        """A fresh access token of a client (demo clients by id alone)."""
        secret = secret if secret is not None else self.client(client_id)["client_secret"]
        response = httpx.post(
            f"{self.gateway}/oauth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] > 0
        return str(body["access_token"])

    def bearer(self, client_id: str, purpose: str | None = None, secret: str | None = None) -> dict[str, str]:
        """Headers of a call as ``client_id`` (a token cached for the test session), with a purpose if given."""
        key = f"{client_id}:{secret}"
        if key not in self._tokens:
            self._tokens[key] = self.token(client_id, secret)
        headers = {"Authorization": f"Bearer {self._tokens[key]}"}
        if purpose is not None:
            headers["X-OneSource-Purpose"] = purpose
        return headers

    def feed(self, subscription: str, headers: dict[str, str], subject: str, limit: int = 50) -> list[dict[str, Any]]:
        """The events about ``subject`` on one page of a feed subscription (waiting up to 2 s for a first one)."""
        response = httpx.get(
            f"{self.gateway}/api/exchange/v1/subscriptions/{subscription}/events",
            params={"limit": limit, "wait": 2},
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return [event for event in response.json()["items"] if event["subject"] == subject]

    def dsn(self, service: str) -> str:
        """Async DSN of a service's database."""
        spec = next(spec for spec in SERVICES if spec.name == service)
        return self.database_template.replace("{database}", f"onesource_{spec.package}")


def eventually(check: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """``check()``'s first truthy result; fails after ``timeout`` seconds (events take a moment to arrive)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"not true after {timeout} s: {getattr(check, '__name__', check)}")
        time.sleep(interval)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that drive the mesh; those that stop it run after every other test of their file."""
    for item in items:
        if "mesh" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.mesh)
    items.sort(key=lambda item: item.get_closest_marker("stops_mesh") is not None)


class MeshKeeper:
    """One running mesh per test worker, started on first use and again if a test stopped it.

    xdist hands a worker whole files as it goes, so a file may come after `test_mesh.py`'s Ctrl-C test.
    """

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._running: Mesh | None = None

    def current(self) -> Mesh:
        if self._running is None or self._running.process.poll() is not None:
            self._running = self._start()
        return self._running

    def _start(self) -> Mesh:
        var = self._tmp.mktemp("mesh") / "var"
        env = {**os.environ, "ONESOURCE_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET}
        pg_port = find_free_port()
        template = f"postgresql+asyncpg://postgres@127.0.0.1:{pg_port}/{{database}}"
        if os.environ.get("ONESOURCE_TEST_DATABASE_URL"):
            env["ONESOURCE_MESH_DATABASE_URL"] = os.environ["ONESOURCE_TEST_DATABASE_URL"]
            template = async_database_template(os.environ["ONESOURCE_TEST_DATABASE_URL"])
        try:
            process, document = start_mesh(var, env, pg_port=pg_port)
        except MeshDidNotStart as error:
            pytest.fail(str(error))
        return Mesh(process, var, document, template)

    def stop(self) -> None:
        if self._running is not None:
            stop_mesh(self._running.process)


@pytest.fixture(scope="session")
def mesh_keeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeshKeeper]:
    keeper = MeshKeeper(tmp_path_factory)
    try:
        yield keeper
    finally:
        keeper.stop()


@pytest.fixture
def mesh(mesh_keeper: MeshKeeper) -> Mesh:
    """The worker's running mesh (started if none runs)."""
    return mesh_keeper.current()
