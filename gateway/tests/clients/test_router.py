from __future__ import annotations

import json
import re

from sqlalchemy import text

CLIENTS = "/api/identity/v1/clients"


async def test_admin_registers_a_client_with_a_generated_id_and_one_time_secret(
    client, admin, identity, events
) -> None:
    await identity.department("market", "600037341")
    response = await client.post(
        CLIENTS, json={"department": "market", "name": "市场监管系统", "roles": ["steward", "consumer"]}, headers=admin
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(r"market-[0-9a-f]{8}", body["client_id"])
    assert len(body["client_secret"]) >= 43
    assert body["department"] == "market"
    assert body["roles"] == ["consumer", "steward"]
    assert body["disabled"] is False
    assert body["created_at"]

    read = await client.get(f"{CLIENTS}/{body['client_id']}", headers=admin)
    assert read.status_code == 200
    assert "client_secret" not in read.json()
    assert "secret_hash" not in read.json()

    [event] = await events(body["client_id"])
    assert event["type"] == "gov.onesource.identity.client.registered.v1"
    assert event["data"] == {
        "client_id": body["client_id"],
        "department": "market",
        "name": "市场监管系统",
        "roles": ["consumer", "steward"],
    }
    assert body["client_secret"] not in json.dumps(event)


async def test_duplicate_client_id_is_409(client, admin, identity) -> None:
    await identity.department("dupes", "600037341")
    await identity.client("dupes", ["consumer"], client_id="dupe-system")
    response = await client.post(
        CLIENTS,
        json={"client_id": "dupe-system", "department": "dupes", "name": "x", "roles": ["consumer"]},
        headers=admin,
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith("/duplicate-client")


async def test_unknown_department_and_unknown_role_are_422(client, admin) -> None:
    unknown = await client.post(
        CLIENTS, json={"department": "nowhere", "name": "x", "roles": ["consumer"]}, headers=admin
    )
    assert unknown.status_code == 422
    assert unknown.json()["type"].endswith("/unknown-department")
    assert unknown.json()["invalid_params"][0]["name"] == "body.department"
    role = await client.post(CLIENTS, json={"department": "platform", "name": "x", "roles": ["root"]}, headers=admin)
    assert role.status_code == 422
    assert role.json()["invalid_params"][0]["name"].startswith("body.roles")
    empty = await client.post(CLIENTS, json={"department": "platform", "name": "x", "roles": []}, headers=admin)
    assert empty.status_code == 422


async def test_rotation_makes_the_old_secret_fail_at_once(client, admin, identity, events) -> None:
    await identity.department("rotating", "600037341")
    registered = await identity.client("rotating", ["consumer"], client_id="rotating-one")
    rotated = await client.post(f"{CLIENTS}/rotating-one/secret", headers=admin)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["client_secret"]
    assert new_secret != registered["client_secret"]
    assert rotated.json()["secret_rotated_at"]
    assert (await identity.token("rotating-one", registered["client_secret"])).status_code == 401
    assert (await identity.token("rotating-one", new_secret)).status_code == 200
    registered_event, rotated_event = await events("rotating-one")
    assert rotated_event["type"] == "gov.onesource.identity.client.secret-rotated.v1"
    assert rotated_event["data"] == {"client_id": "rotating-one", "department": "rotating"}
    for secret in (registered["client_secret"], new_secret):
        assert secret not in json.dumps([registered_event, rotated_event])
    assert "scrypt$" not in json.dumps([registered_event, rotated_event])


async def test_disable_and_enable(client, admin, identity, events) -> None:
    await identity.department("toggles", "600037341")
    registered = await identity.client("toggles", ["consumer"], client_id="toggled")
    disabled = await client.post(f"{CLIENTS}/toggled/disable", headers=admin)
    assert disabled.status_code == 200
    assert disabled.json()["disabled"] is True
    assert disabled.json()["disabled_at"]
    assert (await client.post(f"{CLIENTS}/toggled/disable", headers=admin)).status_code == 200  # no second event
    assert (await identity.token("toggled", registered["client_secret"])).json()["error"] == "invalid_client"
    enabled = await client.post(f"{CLIENTS}/toggled/enable", headers=admin)
    assert enabled.json()["disabled"] is False
    assert (await identity.token("toggled", registered["client_secret"])).status_code == 200
    types = [event["type"] for event in await events("toggled")]
    assert types == [
        "gov.onesource.identity.client.registered.v1",
        "gov.onesource.identity.client.disabled.v1",
        "gov.onesource.identity.client.enabled.v1",
    ]


async def test_missing_client_is_404(client, admin) -> None:
    for path in ("", "/secret", "/disable", "/enable"):
        method = client.get if path == "" else client.post
        response = await method(f"{CLIENTS}/no-such-client{path}", headers=admin)
        assert response.status_code == 404, path
        assert response.json()["type"].endswith("/client-not-found")


async def test_a_client_reads_itself_but_not_others_and_manages_nothing(client, admin, identity) -> None:
    await identity.department("selfish", "600037341")
    me = await identity.client("selfish", ["consumer"], client_id="me-system")
    await identity.client("selfish", ["consumer"], client_id="other-system")
    headers = await identity.bearer("me-system", me["client_secret"])
    assert (await client.get(f"{CLIENTS}/me-system", headers=headers)).status_code == 200
    assert (await client.get(f"{CLIENTS}/other-system", headers=headers)).status_code == 403
    assert (await client.get(CLIENTS, headers=headers)).status_code == 403
    assert (await client.post(f"{CLIENTS}/other-system/secret", headers=headers)).status_code == 403
    assert (await client.post(f"{CLIENTS}/other-system/disable", headers=headers)).status_code == 403
    created = await client.post(
        CLIENTS, json={"department": "selfish", "name": "x", "roles": ["admin"]}, headers=headers
    )
    assert created.status_code == 403
    assert (await client.get(CLIENTS)).status_code == 401


async def test_list_filters_by_department_and_paginates(client, admin, identity) -> None:
    await identity.department("many", "600037341")
    for index in range(3):
        await identity.client("many", ["consumer"], client_id=f"many-{index}")
    first = await client.get(CLIENTS, params={"department": "many", "limit": "2"}, headers=admin)
    assert first.status_code == 200
    assert [item["client_id"] for item in first.json()["items"]] == ["many-0", "many-1"]
    second = await client.get(
        CLIENTS, params={"department": "many", "limit": "2", "cursor": first.json()["next_cursor"]}, headers=admin
    )
    assert [item["client_id"] for item in second.json()["items"]] == ["many-2"]
    assert second.json()["next_cursor"] is None


async def test_idempotent_registration_returns_the_same_client_and_secret(
    client, admin, identity, events, connection
) -> None:
    await identity.department("idem", "600037341")
    headers = {**admin, "Idempotency-Key": "client-once"}
    payload = {"department": "idem", "name": "x", "roles": ["consumer"]}
    first = await client.post(CLIENTS, json=payload, headers=headers)
    again = await client.post(CLIENTS, json=payload, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    listed = await client.get(CLIENTS, params={"department": "idem"}, headers=admin)
    assert len(listed.json()["items"]) == 1
    assert len(await events(first.json()["client_id"])) == 1
    stored = (await connection.execute(text("SELECT body_encrypted FROM idempotency_record"))).scalars().all()
    assert stored
    assert all(first.json()["client_secret"].encode() not in body for body in stored)
