from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote_plus

import jwt
import pytest

from onesource.kit.auth import HttpRevocations, TokenVerifier
from onesource.kit.errors import Unauthorized
from onesource.kit.settings import AuthSettings

TOKEN = "/oauth/token"


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def jwks_verifier(client) -> TokenVerifier:
    """A verifier fed from the gateway's published key set, as every other service has."""

    async def source() -> dict[str, Any]:
        response = await client.get("/.well-known/jwks.json")
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    revocations = HttpRevocations("/api/identity/v1/revocations", client, refresh_seconds=1, max_age_seconds=30)
    return TokenVerifier(AuthSettings(), source, revocations)


async def test_good_secret_gets_a_token_that_verifies_against_the_jwks(client, identity, settings) -> None:
    await identity.department("statistics", "600037341")
    registered = await identity.client("statistics", ["consumer", "steward"], client_id="stats-portal")
    response = await identity.token("stats-portal", registered["client_secret"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.token_lifetime_seconds

    principal = await jwks_verifier(client).verify(body["access_token"])
    assert principal.client_id == "stats-portal"
    assert principal.department == "statistics"
    assert principal.roles == {"consumer", "steward"}
    assert principal.token_id

    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == "onesource-gateway"
    assert claims["aud"] == "onesource"
    assert claims["exp"] - claims["iat"] == settings.token_lifetime_seconds
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert header["kid"] in {key["kid"] for key in jwks["keys"]}


async def test_jwks_is_cacheable_and_public_only(client) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    [key] = [key for key in response.json()["keys"] if key.get("alg") == "EdDSA"][:1]
    assert key["kty"] == "OKP"
    assert key["crv"] == "Ed25519"
    assert "d" not in key


async def test_basic_auth_is_accepted(client, identity) -> None:
    await identity.department("basic", "600037341")
    registered = await identity.client("basic", ["consumer"])
    response = await client.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers=basic(registered["client_id"], registered["client_secret"]),
    )
    assert response.status_code == 200, response.text
    wrong = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers=basic(registered["client_id"], "wrong")
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")


async def test_bad_secret_unknown_client_and_disabled_client_are_invalid_client(client, identity, admin) -> None:
    await identity.department("refused", "600037341")
    registered = await identity.client("refused", ["consumer"])
    for client_id, secret in [(registered["client_id"], "not-the-secret"), ("nobody-here", "whatever")]:
        response = await identity.token(client_id, secret)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"] == "invalid_client"
        assert response.json()["error_description"]
    disabled = await client.post(f"/api/identity/v1/clients/{registered['client_id']}/disable", headers=admin)
    assert disabled.status_code == 200
    response = await identity.token(registered["client_id"], registered["client_secret"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "password", "client_id": "admin", "client_secret": "x"}, 400, "unsupported_grant_type"),
        ({"client_id": "admin", "client_secret": "x"}, 400, "invalid_request"),
        ({"grant_type": "client_credentials"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "admin"}, 401, "invalid_client"),
    ],
)
async def test_malformed_requests_follow_rfc_6749(client, form, status, error) -> None:
    response = await client.post(TOKEN, data=form)
    assert response.status_code == status
    assert response.json()["error"] == error


async def test_json_body_and_repeated_parameters_are_invalid_request(client) -> None:
    as_json = await client.post(TOKEN, json={"grant_type": "client_credentials"})
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    repeated = await client.post(
        TOKEN,
        content=b"grant_type=client_credentials&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert repeated.status_code == 400
    assert repeated.json()["error"] == "invalid_request"


async def test_basic_and_form_credentials_together_are_invalid_request(client) -> None:
    response = await client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": "admin", "client_secret": "x"},
        headers=basic("admin", "x"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_token_of_another_issuer_is_refused(client, tokens) -> None:
    foreign = tokens.headers("admin", "platform", ["admin"])
    response = await client.get("/api/identity/v1/keys", headers=foreign)
    assert response.status_code == 401
    with pytest.raises(Unauthorized):
        await jwks_verifier(client).verify(foreign["Authorization"].removeprefix("Bearer "))
