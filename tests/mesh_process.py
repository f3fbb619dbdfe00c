"""Starting and stopping `onesource up` as a child process, for the cross-service tests and the benchmarks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from onesource.kit.embedded import find_free_port
from onesource.mesh.services import RELAY, SERVICES


class MeshDidNotStart(RuntimeError):
    """`onesource up` exited or took too long; the message ends with its log."""


def free_gateway_port() -> int:
    """A gateway port whose whole block (the other services sit at fixed offsets from it) is free."""
    return find_free_port(span=max(spec.port_offset for spec in (*SERVICES, RELAY)) + 1)


def start_mesh(
    var: Path, env: Mapping[str, str], *, pg_port: int, timeout: float = 240.0, attempts: int = 3, seed: bool = True
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Run `onesource up` with its state in ``var`` (log beside it in ``up.log``); wait for `mesh.json`.

    Another test worker may take a port of the chosen block between the check and the bind: then it tries again
    on another block.
    """
    for attempt in range(1, attempts + 1):
        try:
            return _start_once(var, env, pg_port=pg_port, timeout=timeout, seed=seed)
        except MeshDidNotStart as error:
            if attempt == attempts or "address already in use" not in str(error):
                raise
    raise AssertionError("unreachable")


def _start_once(
    var: Path, env: Mapping[str, str], *, pg_port: int, timeout: float, seed: bool
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    command = [
        sys.executable, "-m", "onesource.mesh", "up", "--var", str(var),
        "--pg-port", str(pg_port), "--postgis-port", str(find_free_port()), "--kafka-port", str(find_free_port()),
        "--gateway-port", str(free_gateway_port()), *([] if seed else ["--no-seed"]),
    ]  # fmt: skip
    var.parent.mkdir(parents=True, exist_ok=True)
    log_path = var.parent / "up.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while not (var / "mesh.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_mesh(process)
            raise MeshDidNotStart(f"onesource up did not come up:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.5)
    document: dict[str, Any] = json.loads((var / "mesh.json").read_text())
    return process, document


def stop_mesh(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as a developer stops it; killed if it does not stop within a minute."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
