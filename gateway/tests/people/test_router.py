from __future__ import annotations

from onesource.gateway.people import hashing

PEOPLE = "/api/identity/v1/people"


async def test_admin_creates_a_person_with_a_generated_password_shown_once(client, identity, admin) -> None:
    await identity.department("civil", "600037341")
    response = await client.post(
        PEOPLE, json={"username": "li.na", "department": "civil", "name": "李娜", "roles": ["steward"]}, headers=admin
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["username"] == "li.na"
    assert body["roles"] == ["steward"]
    assert len(body["password"]) >= 16
    again = await client.get(f"{PEOPLE}/li.na", headers=admin)
    assert again.status_code == 200
    assert "password" not in again.json()
    assert "password_hash" not in again.json()


async def test_duplicate_username_is_409_and_unknown_department_422(client, identity, admin) -> None:
    await identity.department("civil", "600037341")
    await identity.person("civil", ["consumer"], "wang.fang", "a-long-password-1")
    duplicate = await client.post(
        PEOPLE,
        json={"username": "wang.fang", "department": "civil", "name": "王芳", "roles": ["consumer"]},
        headers=admin,
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["type"].endswith("duplicate-person")
    unknown = await client.post(
        PEOPLE,
        json={"username": "zhao.lei", "department": "nowhere", "name": "赵磊", "roles": ["consumer"]},
        headers=admin,
    )
    assert unknown.status_code == 422
    assert unknown.json()["invalid_params"][0]["name"] == "body.department"


async def test_short_password_and_bad_username_are_422(client, identity, admin) -> None:
    await identity.department("civil", "600037341")
    short = await client.post(
        PEOPLE,
        json={"username": "zhou.yu", "department": "civil", "name": "周瑜", "roles": ["steward"], "password": "short"},
        headers=admin,
    )
    assert short.status_code == 422
    upper = await client.post(
        PEOPLE, json={"username": "Zhou Yu", "department": "civil", "name": "周瑜", "roles": ["steward"]}, headers=admin
    )
    assert upper.status_code == 422


async def test_only_admins_manage_people(client, identity) -> None:
    await identity.department("civil", "600037341")
    steward = await identity.client("civil", ["steward"], client_id="civil-steward")
    headers = await identity.bearer("civil-steward", steward["client_secret"])
    response = await client.post(
        PEOPLE, json={"username": "sun.li", "department": "civil", "name": "孙丽", "roles": ["admin"]}, headers=headers
    )
    assert response.status_code == 403
    assert (await client.get(PEOPLE, headers=headers)).status_code == 403


async def test_list_by_department_and_reset_and_disable(client, identity, admin) -> None:
    await identity.department("civil", "600037341")
    await identity.department("stats", "600037350")
    await identity.person("civil", ["steward"], "civil.one", "a-long-password-1")
    await identity.person("stats", ["steward"], "stats.one", "a-long-password-2")
    listed = await client.get(PEOPLE, params={"department": "civil"}, headers=admin)
    assert [person["username"] for person in listed.json()["items"]] == ["civil.one"]

    reset = await client.post(f"{PEOPLE}/civil.one/password", headers=admin)
    assert reset.status_code == 200, reset.text
    assert reset.json()["password"]
    assert reset.json()["password_reset_at"]
    chosen = await client.post(f"{PEOPLE}/civil.one/password", json={"password": "another-password-9"}, headers=admin)
    assert chosen.json()["password"] is None

    disabled = await client.post(f"{PEOPLE}/civil.one/disable", headers=admin)
    assert disabled.json()["disabled"] is True
    revoked = (await client.get("/api/identity/v1/revocations")).json()["items"]
    assert {"client_id": "person:civil.one", "not_before": None} in revoked
    enabled = await client.post(f"{PEOPLE}/civil.one/enable", headers=admin)
    assert enabled.json()["disabled"] is False
    missing = await client.post(f"{PEOPLE}/no.body/disable", headers=admin)
    assert missing.status_code == 404


def test_passwords_are_argon2id_and_verify_only_themselves() -> None:
    stored = hashing.hash_password_sync("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert "m=65536" in stored
    assert hashing.verify_password_sync("correct horse battery", stored)
    assert not hashing.verify_password_sync("correct horse battery!", stored)
    assert not hashing.verify_password_sync("anything", "not-a-hash")
