"""People's passwords: Argon2id (RFC 9106), memory-hard so that a stolen table is slow to guess through.

Unlike client secrets (256 random bits, where scrypt suffices), passwords are chosen by people and may be weak, so
they get the memory-hard hash RFC 9106 recommends (its second, low-memory profile: 64 MiB, 3 passes).
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

_HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def new_password() -> str:
    """A fresh password an admin hands to a person (96 random bits, typeable)."""
    return secrets.token_urlsafe(12)


def hash_password_sync(password: str) -> str:
    """The storable Argon2id hash of ``password`` (blocking)."""
    return _HASHER.hash(password)


def verify_password_sync(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (blocking)."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


#: Checked when a username does not exist, so unknown and known usernames take the same time to refuse.
DUMMY_HASH = hash_password_sync(new_password())


async def hash_password(password: str) -> str:
    """The storable hash of ``password``, computed off the event loop."""
    return await asyncio.to_thread(hash_password_sync, password)


async def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``, computed off the event loop."""
    return await asyncio.to_thread(verify_password_sync, password, stored)
