"""People's sign-in: authorization code + PKCE, ID token, refresh, revocation, discovery."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from onesource.gateway.oauth.throttle import LoginThrottle

from ..conftest import PORTAL_REDIRECT
from .test_router import jwks_verifier

PASSWORD = "a-long-password-1"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize_params(challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": "portal",
        "redirect_uri": PORTAL_REDIRECT,
        "scope": "openid",
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


async def sign_in(client, username: str, password: str, challenge: str) -> Any:
    return await client.post(
        "/oauth/authorize", data={**authorize_params(challenge), "username": username, "password": password}
    )


async def code_from(response) -> str:
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == PORTAL_REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["state-123"]
    assert query["iss"] == ["onesource-gateway"]
    return query["code"][0]


async def exchange(client, code: str, verifier: str, **extra: str) -> Any:
    return await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": PORTAL_REDIRECT,
            "client_id": "portal",
            "code_verifier": verifier,
            **extra,
        },
    )


@pytest.fixture
async def steward(identity) -> dict[str, Any]:
    await identity.department("civil", "600037341")
    return await identity.person("civil", ["steward", "consumer"], "li.na", PASSWORD)


async def test_the_login_page_is_a_strict_html_form(client) -> None:
    _, challenge = pkce()
    response = await client.get("/oauth/authorize", params=authorize_params(challenge))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "form-action 'self' http://portal.test" in policy
    assert 'name="password"' in response.text
    assert 'value="state-123"' in response.text


async def test_unknown_redirect_is_never_followed_and_missing_pkce_goes_back_as_an_error(client) -> None:
    _, challenge = pkce()
    elsewhere = await client.get(
        "/oauth/authorize", params=authorize_params(challenge, redirect_uri="https://evil.example/cb")
    )
    assert elsewhere.status_code == 400
    assert "location" not in elsewhere.headers
    plain = await client.get("/oauth/authorize", params=authorize_params(challenge, code_challenge_method="plain"))
    assert plain.status_code == 302
    query = parse_qs(urlsplit(plain.headers["location"]).query)
    assert query["error"] == ["invalid_request"]
    assert query["state"] == ["state-123"]


async def test_code_with_pkce_gives_access_id_and_refresh_tokens(client, steward, settings) -> None:
    verifier, challenge = pkce()
    code = await code_from(await sign_in(client, "li.na", PASSWORD, challenge))
    response = await exchange(client, code, verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid"
    principal = await jwks_verifier(client).verify(body["access_token"])
    assert principal.client_id == "person:li.na"
    assert principal.department == "civil"
    assert principal.roles == {"steward", "consumer"}
    identity = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert identity["aud"] == "portal"
    assert identity["nonce"] == "nonce-456"
    assert identity["preferred_username"] == "li.na"
    assert identity["name"] == "张三"
    userinfo = await client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert userinfo.json()["dept"] == "civil"

    # The code works once.
    again = await exchange(client, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


async def test_a_wrong_verifier_or_redirect_is_invalid_grant(client, steward) -> None:
    verifier, challenge = pkce()
    code = await code_from(await sign_in(client, "li.na", PASSWORD, challenge))
    wrong = await exchange(client, code, pkce()[0])
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    # A failed exchange used the code up.
    assert (await exchange(client, code, verifier)).json()["error"] == "invalid_grant"
    code = await code_from(await sign_in(client, "li.na", PASSWORD, challenge))
    elsewhere = await exchange(client, code, verifier, redirect_uri="http://portal.test/other")
    assert elsewhere.json()["error"] == "invalid_grant"
    stranger = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "client_id": "other", "code": "x", "code_verifier": "y"},
    )
    assert stranger.json()["error"] == "unauthorized_client"


async def test_wrong_password_is_refused_on_the_page_and_throttled(client, steward, gateway_app) -> None:
    _, challenge = pkce()
    wrong = await sign_in(client, "li.na", "not-the-password", challenge)
    assert wrong.status_code == 401
    assert "用户名或密码错误" in wrong.text
    unknown = await sign_in(client, "no.one", PASSWORD, challenge)
    assert unknown.status_code == 401
    shared = gateway_app.state.login_throttle
    gateway_app.state.login_throttle = LoginThrottle(threshold=2, address_threshold=50)
    try:
        for _ in range(2):
            await sign_in(client, "li.na", "not-the-password", challenge)
        locked = await sign_in(client, "li.na", PASSWORD, challenge)
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) >= 1
        # Another username from the same address is not held up.
        assert (await sign_in(client, "other.person", PASSWORD, challenge)).status_code == 401
    finally:
        gateway_app.state.login_throttle = shared


async def test_a_disabled_person_cannot_sign_in(client, steward, admin) -> None:
    await client.post("/api/identity/v1/people/li.na/disable", headers=admin)
    _, challenge = pkce()
    assert (await sign_in(client, "li.na", PASSWORD, challenge)).status_code == 401


async def test_refresh_replaces_the_token_and_a_replayed_one_ends_every_session(client, steward) -> None:
    verifier, challenge = pkce()
    first = (
        await exchange(client, await code_from(await sign_in(client, "li.na", PASSWORD, challenge)), verifier)
    ).json()
    refreshed = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": "portal"},
    )
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    replay = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": "portal"},
    )
    assert replay.json()["error"] == "invalid_grant"
    # The replay revoked the newer refresh token too.
    after = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"], "client_id": "portal"},
    )
    assert after.json()["error"] == "invalid_grant"


async def test_revocation_signs_out_refresh_and_older_access_tokens(client, steward, gateway_app) -> None:
    verifier, challenge = pkce()
    tokens = (
        await exchange(client, await code_from(await sign_in(client, "li.na", PASSWORD, challenge)), verifier)
    ).json()
    revoked = await client.post("/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": "portal"})
    assert revoked.status_code == 200
    refresh = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": "portal"},
    )
    assert refresh.json()["error"] == "invalid_grant"
    # Tokens issued before the sign-out's second are refused everywhere (the same list as for clients).
    revocations = gateway_app.state.revocations
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert revocations.is_revoked("person:li.na", claims["iat"] - 1)
    listed = (await client.get("/api/identity/v1/revocations")).json()["items"]
    assert any(item["client_id"] == "person:li.na" for item in listed)
    unknown = await client.post("/oauth/revoke", data={"token": "nonsense", "client_id": "portal"})
    assert unknown.status_code == 200


async def test_discovery_document_names_every_endpoint(client) -> None:
    document = (await client.get("/.well-known/openid-configuration")).json()
    assert document["issuer"] == "onesource-gateway"
    assert document["authorization_endpoint"].endswith("/oauth/authorize")
    assert document["token_endpoint"].endswith("/oauth/token")
    assert document["jwks_uri"].endswith("/.well-known/jwks.json")
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "authorization_code" in document["grant_types_supported"]
