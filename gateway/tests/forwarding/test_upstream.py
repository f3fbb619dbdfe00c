"""The gateway's client of forwarded calls, against a real HTTP server on a real socket."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI, Request, Response
from opentelemetry import context as otel_context

from onesource.gateway.forwarding.errors import InvalidHeader, UpstreamTimeout, UpstreamUnavailable
from onesource.gateway.forwarding.upstream import AiohttpUpstreams
from onesource.kit.embedded import find_free_port
from onesource.kit.telemetry import context_from_headers

PURPOSE = "最低生活保障资格审核"


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def echo(request: Request) -> Response:
        if request.url.path == "/slow":
            await asyncio.sleep(5)
        body = await request.body()
        seen = {
            "method": request.method,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.url.query,
            "headers": [[name.decode(), value.decode()] for name, value in request.headers.raw],
            "body": body.decode(),
            "client_port": request.client.port if request.client else None,
        }
        return Response(
            content=json.dumps(seen, ensure_ascii=False),
            status_code=201 if request.method == "POST" else 200,
            media_type="application/json",
            headers={"ETag": '"7"', "Location": "/v1/things/1", "X-Internal": "secret", "Set-Cookie": "a=b"},
        )

    return app


@pytest_asyncio.fixture(loop_scope="session")
async def server() -> AsyncIterator[str]:
    port = find_free_port()
    config = uvicorn.Config(echo_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())
    async with asyncio.timeout(10):
        while not running.started:
            if task.done():  # it could not bind, say: show why rather than wait for ever
                task.result()
                raise RuntimeError("the test server stopped before it started")
            await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    await task


@pytest_asyncio.fixture(loop_scope="session")
async def upstreams() -> AsyncIterator[AiohttpUpstreams]:
    client = AiohttpUpstreams()
    yield client
    await client.aclose()


def header(seen: dict[str, object], name: str) -> list[str]:
    return [value for key, value in seen["headers"] if key == name]  # type: ignore[attr-defined]


async def test_method_path_query_body_and_headers_pass_as_sent(server: str, upstreams: AiohttpUpstreams) -> None:
    answer = await upstreams.send(
        "POST",
        f"{server}/v1/things/%E5%BC%A0%2F1?name=%E7%8E%8B&limit=5",
        [(b"content-type", b"application/json"), (b"x-onesource-purpose", PURPOSE.encode())],
        b'{"a": 1}',
        service="things",
        timeout=5,
    )
    assert answer.status == 201
    seen = json.loads(answer.body)
    assert seen["method"] == "POST"
    assert seen["raw_path"] == "/v1/things/%E5%BC%A0%2F1", "the path is not decoded or re-encoded on the way"
    assert seen["query"] == "name=%E7%8E%8B&limit=5"
    assert seen["body"] == '{"a": 1}'
    assert header(seen, "x-onesource-purpose") == [PURPOSE], "a UTF-8 purpose arrives byte for byte"
    assert header(seen, "user-agent") == []
    assert header(seen, "accept-encoding") == [], "nothing compressed that the gateway would have to undo"
    assert answer.headers == {"content-type": "application/json", "etag": '"7"', "location": "/v1/things/1"}


async def test_the_trace_continues_at_the_service(server: str, upstreams: AiohttpUpstreams) -> None:
    trace_id = uuid.uuid4().hex
    token = otel_context.attach(context_from_headers({"traceparent": f"00-{trace_id}-{'1' * 16}-01"}))
    try:
        answer = await upstreams.send("GET", f"{server}/x", [], b"", service="things", timeout=5)
    finally:
        otel_context.detach(token)
    (traceparent,) = header(json.loads(answer.body), "traceparent")
    assert traceparent.split("-")[1] == trace_id


async def test_a_slow_service_is_a_timeout(server: str, upstreams: AiohttpUpstreams) -> None:
    with pytest.raises(UpstreamTimeout):
        await upstreams.send("GET", f"{server}/slow", [], b"", service="things", timeout=0.3)


async def test_nothing_listening_is_unavailable(upstreams: AiohttpUpstreams) -> None:
    with pytest.raises(UpstreamUnavailable):
        await upstreams.send("GET", f"http://127.0.0.1:{find_free_port()}/x", [], b"", service="gone", timeout=5)


async def test_a_header_that_is_not_utf8_is_refused_before_sending(server: str, upstreams: AiohttpUpstreams) -> None:
    with pytest.raises(InvalidHeader):
        await upstreams.send("GET", f"{server}/x", [(b"x-onesource-purpose", b"\xff\xfe")], b"", service="t", timeout=5)


async def test_connections_are_kept_alive(server: str, upstreams: AiohttpUpstreams) -> None:
    ports = set()
    for _ in range(5):
        answer = await upstreams.send("GET", f"{server}/x", [], b"", service="things", timeout=5)
        ports.add(json.loads(answer.body)["client_port"])
    assert len(ports) == 1, "calls one after another share one connection"


async def test_a_streamed_body_arrives_whole_and_chunked(server: str, upstreams: AiohttpUpstreams) -> None:
    pieces = [f"{n:06d},王明\n".encode() for n in range(20_000)]

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(pieces), 500):
            yield b"".join(pieces[start : start + 500])
            await asyncio.sleep(0)

    answer = await upstreams.send("POST", f"{server}/v1/imports", [], stream(), service="echo", timeout=10)
    seen = json.loads(answer.body)
    assert seen["body"].encode() == b"".join(pieces)
    assert header(seen, "transfer-encoding") == ["chunked"]


async def test_a_stream_that_fails_midway_fails_the_call(server: str, upstreams: AiohttpUpstreams) -> None:
    class BrokenOff(ValueError):
        pass

    async def stream() -> AsyncIterator[bytes]:
        yield b"id_number,name\n"
        raise BrokenOff

    with pytest.raises((BrokenOff, UpstreamUnavailable)):
        await upstreams.send("POST", f"{server}/v1/imports", [], stream(), service="echo", timeout=10)
    # and the connection pool is still good for the next call
    answer = await upstreams.send("GET", f"{server}/v1/things", [], b"", service="echo", timeout=10)
    assert answer.status == 200
