"""Signed checkpoints: compact JWS (RFC 7515, EdDSA per RFC 8037) over the chain head, checkable with the JWKS.

The payload is the RFC 8785 serialisation of ``{"hash", "iss", "seq", "time"}`` — "entry ``seq`` of the audit chain
of gateway ``iss`` had hash ``hash`` at ``time``". The protected header names the key (``kid``) and the type
``audit-checkpoint+jws``. Anyone holding the gateway's public key (``/.well-known/jwks.json``) can check one with
any JOSE library. The payload carries none of ``aud``, ``sub`` or ``exp``, which every access token must have, so
a checkpoint can never pass as a token although the same key signs both.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from onesource.gateway.audit.chain import canonical, timestamp

ALGORITHM = "EdDSA"
CHECKPOINT_TYPE = "audit-checkpoint+jws"

_jws = jwt.PyJWS()


def payload(*, seq: int, hash: str, time: datetime, issuer: str) -> bytes:
    """The signed bytes of a checkpoint."""
    return canonical({"hash": hash, "iss": issuer, "seq": seq, "time": timestamp(time)}).encode("utf-8")


def sign(*, seq: int, hash: str, time: datetime, issuer: str, kid: str, key: Ed25519PrivateKey) -> str:
    """The compact JWS of a checkpoint."""
    return _jws.encode(
        payload(seq=seq, hash=hash, time=time, issuer=issuer),
        key,
        algorithm=ALGORITHM,
        headers={"kid": kid, "typ": CHECKPOINT_TYPE},
    )


def kid_of(signature: str) -> str | None:
    """The ``kid`` the JWS claims (unverified); ``None`` when it is not a JWS or names none."""
    try:
        kid = jwt.get_unverified_header(signature).get("kid")
    except jwt.PyJWTError:
        return None
    return kid if isinstance(kid, str) else None


def verified_payload(signature: str, key: Ed25519PublicKey) -> dict[str, Any]:
    """The payload of ``signature`` if ``key`` signed it; ``jwt.InvalidSignatureError`` (a ``PyJWTError``) if not."""
    complete = _jws.decode_complete(signature, key, algorithms=[ALGORITHM])
    if complete["header"].get("typ") != CHECKPOINT_TYPE:
        raise jwt.InvalidTokenError("not an audit checkpoint")
    document: dict[str, Any] = json.loads(complete["payload"])
    return document
