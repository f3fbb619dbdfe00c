"""The path the gateway checks is the path the registry routes (issue 20 §3): no encoded ``/``, ``?`` or ``%`` makes
the gateway match one template and the registry serve another, and the audit entry names the key the registry read."""

from __future__ import annotations

import httpx

from .conftest import PURPOSE, ZHANG, World, audit_rows, encoded, kind, unique


async def test_encoded_separators_in_a_segment_are_refused_and_audited(client, world: World) -> None:
    reader = unique("mca")
    await world.grant(reader, world.base, ["id_number", "name"])
    consumer = world.callers(reader, encoded(PURPOSE))
    collection = world.collection
    for path in (
        f"/api/population/v1/{collection}/{ZHANG}%2Fhistory",
        f"/api/population/v1/{collection}/{ZHANG}%252Fhistory",
        f"/api/popul%61tion/v1/{collection}/{ZHANG}%252Fhistory",  # an encoded service segment, and %25
        f"/api/popul%61tion/v1/{collection}/{ZHANG}%3Fname=%E5%BC%A0",  # %3F: a query the filters never saw
        f"/api/population/v1/{collection}/{ZHANG}%253Fname=x",
        f"/api/population/v1/{collection}/{ZHANG}%23x",
        f"/api/population/v1/{collection}/{ZHANG}%5Chistory",
        f"/api/population/v1/{collection}/%E4%ZZ",
        f"/api/population/v1/{collection}/%FF",
    ):
        for headers in (consumer, world.owner()):
            response = await client.get(httpx.URL(path), headers=headers)
            assert (response.status_code, kind(response)) == (400, "unsafe-path"), (path, response.text)
            [entry] = await audit_rows(world.app, response.headers["x-request-id"])
            assert entry["status"] == 400
            assert entry["path"] == path
    assert world.registry.calls == [], "nothing reached the registry"


async def test_the_registry_gets_the_path_that_was_checked_and_the_audit_names_its_key(client, world: World) -> None:
    reader = unique("mca")
    await world.grant(reader, world.base, ["id_number", "name"])
    world.registry.add(world.collection, {**world.registry.records[world.collection][ZHANG], "id_number": "张 三"})
    consumer = world.callers(reader, encoded(PURPOSE))
    for path in (
        f"/api/popul%61tion/v1/{world.collection}/%E5%BC%A0%20%E4%B8%89",  # an encoded service segment is a name
        f"/api/population/v1/{world.collection}/%E5%BC%A0 %E4%B8%89",
    ):
        read = await client.get(httpx.URL(path), headers=consumer)
        assert read.status_code == 200, read.text
        assert read.json()["id_number"] == "张 三"
        method, seen, _ = world.registry.calls[-1]
        assert (method, seen) == ("GET", f"/v1/{world.collection}/张 三")
        [entry] = await audit_rows(world.app, read.headers["x-request-id"])
        assert entry["record_keys"] == ["张 三"]


async def test_nul_in_a_path_is_unstorable_input(client, world: World) -> None:
    for headers in (world.callers(unique("mca"), encoded(PURPOSE)), world.owner()):
        response = await client.get(world.path("a%00b"), headers=headers)
        assert (response.status_code, kind(response)) == (422, "unstorable-input"), response.text
        [entry] = await audit_rows(world.app, response.headers["x-request-id"])
        assert entry["status"] == 422
    assert world.registry.calls == []


async def test_calls_to_unknown_services_are_audited(client, world: World) -> None:
    for headers in ({}, world.callers(unique("mca"), encoded(PURPOSE))):
        response = await client.get(f"/api/{unique('nothing-')}/v1/x", headers=headers)
        assert (response.status_code, kind(response)) == (404, "unknown-service")
        [entry] = await audit_rows(world.app, response.headers["x-request-id"])
        assert entry["status"] == 404
