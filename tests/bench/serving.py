"""Apps under test as real HTTP servers: uvicorn in a process of its own, and a JWKS the apps trust."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from onesource.kit.embedded import die_with_parent, find_free_port
from onesource.kit.testing.tokens import TestTokens


@contextmanager
def jwks_server(tokens: TestTokens) -> Iterator[dict[str, str]]:
    """Serve ``tokens``' key set and revocation list over HTTP, as the gateway does; yields the services' settings."""
    documents = {
        "/.well-known/jwks.json": json.dumps(tokens.jwks()).encode(),
        "/api/identity/v1/revocations": tokens.revoked.document().model_dump_json().encode(),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            document = documents.get(self.path)
            if document is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", find_free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield {
            "ONESOURCE_AUTH_JWKS_URL": f"{base}/.well-known/jwks.json",
            "ONESOURCE_AUTH_REVOCATIONS_URL": f"{base}/api/identity/v1/revocations",
        }
    finally:
        server.shutdown()


@contextmanager
def served(factory: str, env: Mapping[str, str], log: Path, *, ready_path: str = "/healthz") -> Iterator[int]:
    """``uvicorn --factory <factory>`` on a free port in its own process; yields the port once it answers."""
    port = find_free_port()
    args = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port)]
    args += ["--no-access-log", "--log-level", "warning"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent()
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{factory} exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{factory} did not answer: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
