"""Bounds on what a call may make the gateway store or forward (issue 20 §7): a 60,000-character purpose and path
were stored in audit entries, a 100 KB header accepted."""

from __future__ import annotations

from sqlalchemy import text

from .conftest import ZHANG, World, audit_rows, encoded, kind, unique


async def test_an_overlong_purpose_is_refused_and_only_its_start_audited(client, world: World) -> None:
    reader = unique("mca")
    await world.grant(reader, world.base, ["id_number", "name"])
    headers = world.callers(reader, encoded("审" * 60_000))
    # 60,000 characters percent-encoded is over any header limit: the head is refused as a whole.
    too_big = await client.get(world.path(ZHANG), headers=headers)
    assert (too_big.status_code, kind(too_big)) == (431, "headers-too-large")
    assert await audit_rows(world.app, too_big.headers["x-request-id"]) == []
    # One that fits in a header but is longer than any grant's purpose is the gateway's own refusal, audited.
    long = await client.get(world.path(ZHANG), headers=world.callers(reader, "p" * 2000))
    assert (long.status_code, kind(long)) == (431, "purpose-too-long")
    [entry] = await audit_rows(world.app, long.headers["x-request-id"])
    assert entry["status"] == 431
    assert len(entry["purpose"]) == 501
    assert world.registry.calls == []


async def test_an_overlong_path_is_refused_and_never_stored(client, world: World) -> None:
    owner = world.owner()
    response = await client.get(world.path("1" * 60_000), headers=owner)
    assert (response.status_code, kind(response)) == (414, "uri-too-long")
    async with world.app.state.engine.connect() as connection:
        longest = await connection.scalar(text("SELECT max(length(path)) FROM audit_entry"))
    assert longest is None or longest <= 8192
    assert world.registry.calls == []


async def test_platform_client_ids_are_reserved(client, admin, identity) -> None:
    await identity.department("civil-affairs", "000014301")
    for client_id in ("gateway", "admin", "exchange", "catalog", "identity", "audit"):
        refused = await client.post(
            "/api/identity/v1/clients",
            json={"client_id": client_id, "department": "civil-affairs", "name": "x", "roles": ["consumer"]},
            headers=admin,
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("/reserved-client-id")
