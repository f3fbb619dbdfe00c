"""Client secrets: generation and salted scrypt hashes (``scrypt$n$r$p$salt$hash``), compared in constant time."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

# RFC 7914 parameters; N=2^14, r=8 costs ≈16 MiB and tens of milliseconds per hash.
_N, _R, _P = 2**14, 8, 1
_LENGTH = 32
_MAX_MEMORY = 64 * 1024 * 1024


def new_secret() -> str:
    """A fresh client secret (256 bits of randomness)."""
    return secrets.token_urlsafe(32)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=_MAX_MEMORY)


def hash_secret_sync(secret: str) -> str:
    """The storable hash of ``secret`` (blocking)."""
    salt = secrets.token_bytes(16)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(_scrypt(secret, salt, _N, _R, _P, _LENGTH))}"


def verify_secret_sync(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches ``stored`` (blocking; constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = _scrypt(secret, _unb64(salt), int(n), int(r), int(p), len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


#: Checked when a client does not exist, so unknown and known client ids take the same time to refuse.
DUMMY_HASH = hash_secret_sync(new_secret())


async def hash_secret(secret: str) -> str:
    """The storable hash of ``secret``, computed off the event loop."""
    return await asyncio.to_thread(hash_secret_sync, secret)


async def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches ``stored``, computed off the event loop."""
    return await asyncio.to_thread(verify_secret_sync, secret, stored)
