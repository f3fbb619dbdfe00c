"""Disabling a client or rotating its secret refuses the tokens it already holds, at once."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from onesource.gateway.clients.revocation import RevocationList


async def _own_client(client, identity, client_id: str) -> tuple[dict[str, str], str]:
    await identity.department("civil-affairs", "000014301")
    registered = await identity.client("civil-affairs", ["consumer"], client_id=client_id)
    bearer = await identity.bearer(client_id, registered["client_secret"])
    assert (await client.get(f"/api/identity/v1/clients/{client_id}", headers=bearer)).status_code == 200
    return bearer, registered["client_secret"]


async def test_disabling_a_client_refuses_its_tokens_at_once(client, identity, admin) -> None:
    bearer, secret = await _own_client(client, identity, "welfare-desk")
    await asyncio.sleep(1.05 - time.time() % 1)  # disable in a later second than the token's ``iat``

    disabled = await client.post("/api/identity/v1/clients/welfare-desk/disable", headers=admin)
    assert disabled.status_code == 200, disabled.text

    refused = await client.get("/api/identity/v1/clients/welfare-desk", headers=bearer)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert (await identity.token("welfare-desk", secret)).status_code == 401

    assert (await client.post("/api/identity/v1/clients/welfare-desk/enable", headers=admin)).status_code == 200
    # The token from before it was disabled stays refused; a new one works.
    assert (await client.get("/api/identity/v1/clients/welfare-desk", headers=bearer)).status_code == 401
    fresh = await identity.bearer("welfare-desk", secret)
    assert (await client.get("/api/identity/v1/clients/welfare-desk", headers=fresh)).status_code == 200


async def test_rotating_a_secret_refuses_tokens_issued_before(client, identity, admin) -> None:
    bearer, _ = await _own_client(client, identity, "welfare-batch")
    # ``iat`` has whole seconds and a token from the rotation's own second is still accepted: rotate in a later one.
    await asyncio.sleep(1.05 - time.time() % 1)

    rotated = await client.post("/api/identity/v1/clients/welfare-batch/secret", headers=admin)
    assert rotated.status_code == 200, rotated.text

    assert (await client.get("/api/identity/v1/clients/welfare-batch", headers=bearer)).status_code == 401
    fresh = await identity.bearer("welfare-batch", rotated.json()["client_secret"])
    assert (await client.get("/api/identity/v1/clients/welfare-batch", headers=fresh)).status_code == 200


async def test_other_clients_tokens_are_untouched(client, identity, admin) -> None:
    bearer, _ = await _own_client(client, identity, "welfare-other")
    await identity.client("civil-affairs", ["consumer"], client_id="welfare-gone")
    assert (await client.post("/api/identity/v1/clients/welfare-gone/disable", headers=admin)).status_code == 200
    assert (await client.get("/api/identity/v1/clients/welfare-other", headers=bearer)).status_code == 200


async def test_the_list_reloads_from_the_client_table(gateway_app) -> None:
    """What other gateway processes see: the table, read on the engine (committed state)."""
    revocations = RevocationList()
    revocations.disabled("nobody-such")
    async with gateway_app.state.sessionmaker() as session:
        await revocations.reload(session, horizon_seconds=900)
    # The committed table has no disabled client of that name: the in-memory entry is replaced by the table's truth.
    assert not revocations.is_revoked("nobody-such", int(time.time()))


def test_limits_from_rotation_and_disabling() -> None:
    revocations = RevocationList()
    rotated_at = datetime(2026, 11, 22, 10, 0, 0, 500_000, tzinfo=UTC)
    revocations.rotated("a", rotated_at)
    second = int(rotated_at.timestamp())
    assert revocations.is_revoked("a", second - 1)
    assert not revocations.is_revoked("a", second)  # the rotation's own second: accepted (documented window)
    revocations.disabled("a")
    assert revocations.is_revoked("a", second + 3600)
    revocations.enabled("a", datetime(2026, 11, 22, 11, 0, 0, 200_000, tzinfo=UTC))
    disabled_second = int(datetime(2026, 11, 22, 11, 0, 0, tzinfo=UTC).timestamp())
    assert revocations.is_revoked("a", disabled_second - 1)
    assert not revocations.is_revoked("a", disabled_second)
    assert not revocations.is_revoked("b", 0)


async def test_the_list_is_published_for_every_service(client, identity, admin) -> None:
    # Issue 20 §2: services verify tokens themselves; they refuse what the gateway refuses by fetching this list.
    await _own_client(client, identity, "welfare-listed")
    await identity.client("civil-affairs", ["consumer"], client_id="welfare-off")
    assert (await client.post("/api/identity/v1/clients/welfare-off/disable", headers=admin)).status_code == 200
    rotated = await client.post("/api/identity/v1/clients/welfare-listed/secret", headers=admin)
    assert rotated.status_code == 200
    published = await client.get("/api/identity/v1/revocations")
    assert published.status_code == 200, published.text
    listed = {item["client_id"]: item["not_before"] for item in published.json()["items"]}
    assert listed["welfare-off"] is None  # every token
    rotated_at = datetime.fromisoformat(rotated.json()["secret_rotated_at"]).timestamp()
    assert listed["welfare-listed"] == int(rotated_at)
