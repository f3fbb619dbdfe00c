"""Encryption at rest (AES-256-GCM under an HKDF-SHA256-derived key) and Ed25519 key material as JWKs."""

from __future__ import annotations

import os
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

ALGORITHM = "EdDSA"
_NONCE_BYTES = 12  # NIST SP 800-38D §8.2: 96-bit random nonces


class SecretBox:
    """Seals and opens small values with AES-GCM; the key is derived from a configured secret per purpose."""

    def __init__(self, secret: SecretStr, purpose: str) -> None:
        # RFC 5869: HKDF-SHA256; ``info`` separates the keys of different purposes.
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"onesource-gateway/{purpose}".encode()
        ).derive(secret.get_secret_value().encode())
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        """``nonce || ciphertext+tag``; ``context`` is authenticated, binding the value to its row."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, *, context: str) -> bytes:
        """The plaintext of :meth:`seal`; raises ``cryptography.exceptions.InvalidTag`` when tampered with."""
        return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], context.encode())


def signing_key_box(secret: SecretStr) -> SecretBox:
    """The box that encrypts signing keys."""
    return SecretBox(secret, "signing-key/v1")


def new_ed25519() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM of ``key`` (unencrypted: it is sealed by a :class:`SecretBox` before storage)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_pem(pem: bytes) -> Ed25519PrivateKey:
    """The Ed25519 key in ``pem``."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("stored signing key is not an Ed25519 key")
    return key


def public_jwk(key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    """The public JWK (RFC 8037 OKP) of ``key``."""
    jwk: dict[str, Any] = jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"}
