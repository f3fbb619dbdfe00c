"""The gateway's client of forwarded calls, against a real HTTP server on a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI, Request, Response
from opentelemetry import context as otel_context

from onesource.gateway.forwarding.errors import InvalidHeader, UpstreamTimeout, UpstreamUnavailable
from onesource.gateway.forwarding.upstream import HttpUpstreams
from onesource.kit.embedded import find_free_port
from onesource.kit.telemetry import context_from_headers

PURPOSE = "最低生活保障资格审核"


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
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
async def upstreams() -> AsyncIterator[HttpUpstreams]:
    client = HttpUpstreams()
    yield client
    await client.aclose()


def header(seen: dict[str, object], name: str) -> list[str]:
    return [value for key, value in seen["headers"] if key == name]  # type: ignore[attr-defined]


async def test_method_path_query_body_and_headers_pass_as_sent(server: str, upstreams: HttpUpstreams) -> None:
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


async def test_the_trace_continues_at_the_service(server: str, upstreams: HttpUpstreams) -> None:
    trace_id = uuid.uuid4().hex
    token = otel_context.attach(context_from_headers({"traceparent": f"00-{trace_id}-{'1' * 16}-01"}))
    try:
        answer = await upstreams.send("GET", f"{server}/x", [], b"", service="things", timeout=5)
    finally:
        otel_context.detach(token)
    (traceparent,) = header(json.loads(answer.body), "traceparent")
    assert traceparent.split("-")[1] == trace_id


async def test_a_slow_service_is_a_timeout(server: str, upstreams: HttpUpstreams) -> None:
    with pytest.raises(UpstreamTimeout):
        await upstreams.send("GET", f"{server}/slow", [], b"", service="things", timeout=0.3)


async def test_nothing_listening_is_unavailable(upstreams: HttpUpstreams) -> None:
    with pytest.raises(UpstreamUnavailable):
        await upstreams.send("GET", f"http://127.0.0.1:{find_free_port()}/x", [], b"", service="gone", timeout=5)


async def test_a_header_that_is_not_utf8_is_refused_before_sending(server: str, upstreams: HttpUpstreams) -> None:
    with pytest.raises(InvalidHeader):
        await upstreams.send("GET", f"{server}/x", [(b"x-onesource-purpose", b"\xff\xfe")], b"", service="t", timeout=5)


async def test_connections_are_kept_alive(server: str, upstreams: HttpUpstreams) -> None:
    ports = set()
    for _ in range(5):
        answer = await upstreams.send("GET", f"{server}/x", [], b"", service="things", timeout=5)
        ports.add(json.loads(answer.body)["client_port"])
    assert len(ports) == 1, "calls one after another share one connection"


async def test_a_streamed_body_arrives_whole_and_chunked(server: str, upstreams: HttpUpstreams) -> None:
    pieces = [f"{n:06d},王明\n".encode() for n in range(20_000)]

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(pieces), 500):
            yield b"".join(pieces[start : start + 500])
            await asyncio.sleep(0)

    answer = await upstreams.send("POST", f"{server}/v1/imports", [], stream(), service="echo", timeout=10)
    seen = json.loads(answer.body)
    assert seen["body"].encode() == b"".join(pieces)
    assert header(seen, "transfer-encoding") == ["chunked"]


async def test_a_stream_that_fails_midway_fails_the_call(server: str, upstreams: HttpUpstreams) -> None:
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


async def test_an_answer_to_head_ends_with_its_headers(server: str, upstreams: HttpUpstreams) -> None:
    answer = await upstreams.send("HEAD", f"{server}/x", [], b"", service="things", timeout=5)
    assert answer.status == 200
    assert answer.body == b""
    assert answer.headers["etag"] == '"7"'
    followed = await upstreams.send("GET", f"{server}/x", [], b"", service="things", timeout=5)
    assert json.loads(followed.body)["method"] == "GET", "the connection carries the next call as it should"


RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_server(handle: RawHandler) -> AsyncIterator[str]:
    """A server speaking HTTP by hand, for what uvicorn never does; ``handle`` gets each connection and its number."""
    opened = 0

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal opened
        opened += 1
        try:
            await handle(reader, writer, opened)
        finally:
            writer.close()

    listening = await asyncio.start_server(connected, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        listening.close()


def keep_alive_answer(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n%b" % (len(body), body)


async def test_a_kept_connection_closed_under_a_read_is_retried_on_a_new_one() -> None:
    async def first_call_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(keep_alive_answer(b"connection %d" % number))
        await reader.readuntil(b"\r\n\r\n")  # the next call on this connection: closed unanswered, as by a timeout

    client = HttpUpstreams()
    try:
        async with raw_server(first_call_only) as url:
            first = await client.send("GET", f"{url}/a", [], b"", service="raw", timeout=5)
            second = await client.send("GET", f"{url}/b", [], b"", service="raw", timeout=5)
            assert (first.body, second.body) == (b"connection 1", b"connection 2")
            with pytest.raises(UpstreamUnavailable):  # a write is never sent twice: the service may have done it
                await client.send("POST", f"{url}/c", [], b"{}", service="raw", timeout=5)
    finally:
        await client.aclose()


async def test_bodies_that_end_by_chunks_or_by_the_close_arrive_whole() -> None:
    async def chunked_then_closed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end")
        await writer.drain()

    client = HttpUpstreams()
    try:
        async with raw_server(chunked_then_closed) as url:
            chunked = await client.send("GET", f"{url}/a", [], b"", service="raw", timeout=5)
            closed = await client.send("GET", f"{url}/b", [], b"", service="raw", timeout=5)
    finally:
        await client.aclose()
    assert chunked.body == b"hello world"
    assert (closed.body, closed.headers) == (b"until the end", {"content-type": "text/plain"})


async def test_an_answer_before_the_upload_ends_stops_the_upload() -> None:
    async def refuses_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b'{"status":413}'
        writer.write(b"HTTP/1.1 413 Content Too Large\r\ncontent-length: %d\r\n\r\n%b" % (len(body), body))
        while await reader.read(65536):
            pass

    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(1000):
            sent += 1
            yield b"x" * 1000
            await asyncio.sleep(0.005)

    client = HttpUpstreams()
    try:
        async with raw_server(refuses_at_once) as url:
            answer = await client.send("POST", f"{url}/v1/imports", [], stream(), service="raw", timeout=5)
    finally:
        await client.aclose()
    assert answer.status == 413
    assert sent < 1000, "the rest of the upload is not sent once the service has answered"


async def test_an_answer_that_is_not_http_is_unavailable() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()
        await reader.read(1)

    client = HttpUpstreams()
    try:
        async with raw_server(garbage) as url:
            with pytest.raises(UpstreamUnavailable):
                await client.send("GET", f"{url}/a", [], b"", service="raw", timeout=5)
    finally:
        await client.aclose()
