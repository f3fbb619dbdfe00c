from __future__ import annotations

import asyncio
import json

import httpx
import jwt
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.keys import service as keys

from .conftest import Scratch, audit_entry


async def test_a_checkpoint_signs_the_head_verifiably_with_the_published_key(scratch: Scratch) -> None:
    log = await scratch.writer()
    assert await log.checkpoint() is None  # nothing to sign yet
    await asyncio.gather(*(log.record(audit_entry()) for _ in range(3)))

    assert await log.checkpoint() == 3
    assert await log.checkpoint() is None  # the head did not move

    async with scratch.engine.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM audit_checkpoint"))).one()
    async with AsyncSession(scratch.engine) as session:
        published = await keys.jwks(session, scratch.settings)
    # Any JOSE library and the JWKS suffice: find the key by kid, verify the JWS, read the payload.
    kid = jwt.get_unverified_header(row.signature)["kid"]
    assert kid == row.kid
    jwk = next(key for key in published["keys"] if key["kid"] == kid)
    signed = json.loads(jwt.PyJWS().decode(row.signature, jwt.PyJWK(jwk).key, algorithms=["EdDSA"]))
    assert (signed["seq"], signed["hash"]) == (3, row.hash) == await scratch.head()
    assert signed["iss"] == scratch.settings.issuer


async def test_checkpoints_are_signed_periodically_when_the_head_moves(scratch: Scratch) -> None:
    log = await scratch.writer(checkpoint_interval_seconds=0.05)
    await log.record(audit_entry())
    for _ in range(100):
        if await scratch.scalar("SELECT max(seq) FROM audit_checkpoint") == 1:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("no checkpoint was signed")
    await asyncio.sleep(0.2)  # several intervals without a move: still the one checkpoint
    assert await scratch.scalar("SELECT count(*) FROM audit_checkpoint") == 1


async def test_stopping_signs_the_final_head(scratch: Scratch) -> None:
    log = await scratch.writer()
    await log.record(audit_entry())
    await log.stop()
    assert await scratch.scalar("SELECT max(seq) FROM audit_checkpoint") == 1


async def test_the_gateways_checkpoints_verify_against_its_jwks_and_are_no_tokens(
    gateway_app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await gateway_app.state.audit.record(audit_entry())
    seq = await gateway_app.state.audit.checkpoint()
    assert seq is not None

    listed = await client.get("/api/audit/v1/checkpoints", params={"limit": 1}, headers=admin)
    assert listed.status_code == 200, listed.text
    latest = listed.json()["items"][0]
    assert latest["seq"] == seq
    jwks = (await client.get("/.well-known/jwks.json")).json()
    jwk = next(key for key in jwks["keys"] if key["kid"] == latest["kid"])
    signed = json.loads(jwt.PyJWS().decode(latest["signature"], jwt.PyJWK(jwk).key, algorithms=["EdDSA"]))
    assert (signed["seq"], signed["hash"]) == (latest["seq"], latest["hash"])

    # Signed by the token key, yet never accepted as a token.
    refused = await client.get("/api/audit/v1/checkpoints", headers={"Authorization": f"Bearer {latest['signature']}"})
    assert refused.status_code == 401
