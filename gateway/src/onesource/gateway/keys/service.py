"""Signing keys: creation, rotation, the published key set, and the key that signs tokens now."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.keys import crypto, repository
from onesource.gateway.keys.errors import NoActiveSigningKey
from onesource.gateway.keys.schemas import KeyState
from onesource.gateway.models import SigningKey
from onesource.gateway.settings import Settings
from onesource.kit.pagination import Slice, paginate

#: Retired keys stay published this much longer than a token lives, for clocks that run slightly apart.
CLOCK_LEEWAY = timedelta(seconds=60)


def _new_kid(at: datetime) -> str:
    # Sortable by creation time, so listing keys in kid order lists them oldest first.
    return f"{at:%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"


async def _create_active(session: AsyncSession, settings: Settings) -> SigningKey:
    now = datetime.now(UTC)
    kid = _new_kid(now)
    private = crypto.new_ed25519()
    sealed = crypto.signing_key_box(settings.key_encryption_secret).seal(crypto.private_pem(private), context=kid)
    return await repository.insert_active(
        session, kid=kid, public_jwk=crypto.public_jwk(private, kid), private_key_encrypted=sealed, at=now
    )


async def ensure_active(session: AsyncSession, settings: Settings) -> SigningKey:
    """The active key, created if there is none (safe when several gateways start at once)."""
    await repository.lock_keys(session)
    key = await repository.active(session)
    return key if key is not None else await _create_active(session, settings)


async def rotate(session: AsyncSession, settings: Settings) -> SigningKey:
    """Retire the active key and create a new one; the old one stays published until its tokens expired."""
    await repository.lock_keys(session)
    await repository.retire_active(session, datetime.now(UTC))
    return await _create_active(session, settings)


async def signer(session: AsyncSession, settings: Settings) -> tuple[str, Ed25519PrivateKey]:
    """Kid and private key of the active key."""
    key = await repository.active(session)
    if key is None:
        raise NoActiveSigningKey("the gateway has no active signing key yet; retry shortly")
    pem = crypto.signing_key_box(settings.key_encryption_secret).open(key.private_key_encrypted, context=key.kid)
    return key.kid, crypto.load_private_pem(pem)


def _publication_window(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.token_lifetime_seconds) + CLOCK_LEEWAY


async def jwks(session: AsyncSession, settings: Settings) -> dict[str, Any]:
    """The public key set: the active key and keys retired less than a token lifetime ago."""
    keys = await repository.published(session, datetime.now(UTC) - _publication_window(settings))
    return {"keys": [key.public_jwk for key in keys]}


def state_of(key: SigningKey, settings: Settings, now: datetime | None = None) -> KeyState:
    """Whether ``key`` signs, still verifies, or is gone from the key set."""
    if key.active:
        return "active"
    now = now or datetime.now(UTC)
    if key.retired_at is not None and key.retired_at > now - _publication_window(settings):
        return "retired"
    return "expired"


async def page(session: AsyncSession, *, limit: int, cursor: str | None) -> Slice[SigningKey]:
    """One page of keys, oldest first."""
    return await paginate(session, repository.listed(), order=[SigningKey.kid], limit=limit, cursor=cursor)
