from __future__ import annotations

import jwt

from onesource.gateway.keys import crypto

KEYS = "/api/identity/v1/keys"


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def test_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key(
    client, admin, admin_token, identity, settings
) -> None:
    old_kid = kid_of(admin_token)
    rotated = await client.post(f"{KEYS}/rotate", headers=admin)
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()
    assert new_key["state"] == "active"
    assert new_key["kid"] != old_kid
    assert "d" not in new_key["public_jwk"]

    # The old token (signed by the now retired key) still works, and the old key is still published.
    listed = await client.get(KEYS, headers=admin)
    assert listed.status_code == 200
    states = {key["kid"]: key["state"] for key in listed.json()["items"]}
    assert states[old_kid] == "retired"
    assert states[new_key["kid"]] == "active"
    jwks = {key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {old_kid, new_key["kid"]} <= jwks

    fresh = await identity.token("admin", settings.bootstrap_admin_secret.get_secret_value())
    assert kid_of(fresh.json()["access_token"]) == new_key["kid"]
    again = await client.get(KEYS, headers={"Authorization": f"Bearer {fresh.json()['access_token']}"})
    assert again.status_code == 200


async def test_keys_are_admin_only(client, identity) -> None:
    await identity.department("keyless", "600037341")
    steward = await identity.client("keyless", ["steward", "coordinator"])
    headers = await identity.bearer(steward["client_id"], steward["client_secret"])
    assert (await client.post(f"{KEYS}/rotate", headers=headers)).status_code == 403
    assert (await client.get(KEYS, headers=headers)).status_code == 403
    assert (await client.post(f"{KEYS}/rotate")).status_code == 401


async def test_private_keys_are_encrypted_at_rest(connection, settings) -> None:
    from sqlalchemy import text

    row = (await connection.execute(text("SELECT kid, private_key_encrypted FROM signing_key WHERE active"))).one()
    assert b"PRIVATE KEY" not in row.private_key_encrypted
    pem = crypto.signing_key_box(settings.key_encryption_secret).open(row.private_key_encrypted, context=row.kid)
    assert crypto.load_private_pem(pem)


async def test_keys_retired_longer_than_a_token_lifetime_leave_the_jwks(
    client, admin, admin_token, connection, identity, settings
) -> None:
    from sqlalchemy import text

    old_kid = kid_of(admin_token)
    assert (await client.post(f"{KEYS}/rotate", headers=admin)).status_code == 200
    await connection.execute(
        text("UPDATE signing_key SET retired_at = now() - interval '1 day' WHERE kid = :kid"), {"kid": old_kid}
    )
    jwks = {key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert old_kid not in jwks
    fresh = await identity.bearer("admin", settings.bootstrap_admin_secret.get_secret_value())
    listed = await client.get(KEYS, headers=fresh)
    assert {key["kid"]: key["state"] for key in listed.json()["items"]}[old_kid] == "expired"
