"""A page the row scope empties never carries a cursor (issue 20 §6): its cursor would tell a department that records
it may not see match its filter. The gateway reads on for records in scope instead, a few pages at most."""

from __future__ import annotations

import base64

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from .conftest import LI, PURPOSE, WANG, ZHANG, World, audit_rows, encoded, unique


def paging(world: World):
    """A registry answer that pages by key, as population-db does (its cursor: the last key, base64)."""

    def answer(request: Request) -> Response:
        limit = int(request.query_params.get("limit", "50"))
        cursor = request.query_params.get("cursor")
        after = base64.urlsafe_b64decode(cursor + "==").decode() if cursor else ""
        rows = sorted(world.registry.records[world.collection].values(), key=lambda row: row["id_number"])
        rest = [row for row in rows if row["id_number"] > after]
        page = rest[:limit]
        more = len(rest) > limit
        next_cursor = base64.urlsafe_b64encode(page[-1]["id_number"].encode()).decode().rstrip("=") if more else None
        return JSONResponse({"items": page, "next_cursor": next_cursor})

    return answer


async def test_an_emptied_page_has_no_cursor_and_says_nothing_of_hidden_records(client, world: World) -> None:
    world.registry.answer = paging(world)
    reader = unique("mca")
    await world.grant(reader, world.base, ["id_number", "name"], row_scope={"household_region_code": ["44"]})
    consumer = world.callers(reader, encoded(PURPOSE))
    listed = await client.get(world.path(), params={"limit": 1, "name": "张"}, headers=consumer)
    assert listed.status_code == 200, listed.text
    # Three records exist, none in scope: the same answer as if none existed.
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_the_gateway_reads_on_for_records_in_scope(client, world: World) -> None:
    assert [LI, ZHANG, WANG] == sorted([LI, ZHANG, WANG])
    world.registry.answer = paging(world)
    reader = unique("mca")
    await world.grant(reader, world.base, ["id_number", "name"], row_scope={"household_region_code": ["31"]})
    consumer = world.callers(reader, encoded(PURPOSE))
    listed = await client.get(world.path(), params={"limit": 1}, headers=consumer)
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"items": [{"id_number": WANG, "name": "王五"}], "next_cursor": None}
    assert len(world.registry.calls) == 3  # LI's page and ZHANG's were emptied
    [entry] = await audit_rows(world.app, listed.headers["x-request-id"])
    assert entry["record_keys"] == [WANG]


async def test_reading_on_is_bounded(client, world: World, gateway_app: FastAPI) -> None:
    world.registry.answer = paging(world)
    reader = unique("mca")
    await world.grant(reader, world.base, ["id_number", "name"], row_scope={"household_region_code": ["31"]})
    consumer = world.callers(reader, encoded(PURPOSE))
    original = gateway_app.state.settings
    gateway_app.state.settings = original.model_copy(update={"row_scope_lookahead_pages": 1})
    try:
        listed = await client.get(world.path(), params={"limit": 1}, headers=consumer)
    finally:
        gateway_app.state.settings = original
    assert listed.json() == {"items": [], "next_cursor": None}
    assert len(world.registry.calls) == 2
