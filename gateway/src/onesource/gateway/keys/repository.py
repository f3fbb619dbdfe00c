"""Every SQL statement of the signing keys domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.models import SigningKey

#: Advisory lock serialising key creation and rotation across gateway processes ("gate" in ASCII).
_KEY_LOCK = 0x6761_7465


async def lock_keys(session: AsyncSession) -> None:
    """Hold the key lock until the transaction ends."""
    await session.execute(select(func.pg_advisory_xact_lock(_KEY_LOCK)))


async def active(session: AsyncSession) -> SigningKey | None:
    """The key that signs new tokens."""
    return (await session.scalars(select(SigningKey).where(SigningKey.active))).first()


async def retire_active(session: AsyncSession, at: datetime) -> None:
    """Retire the active key (it keeps verifying until its tokens expire)."""
    await session.execute(
        update(SigningKey)
        .where(SigningKey.active)
        .values(active=False, retired_at=at)
        .execution_options(synchronize_session=False)
    )


async def insert_active(
    session: AsyncSession, *, kid: str, public_jwk: dict[str, Any], private_key_encrypted: bytes, at: datetime
) -> SigningKey:
    """Store a new active key."""
    key = SigningKey(
        kid=kid,
        algorithm="EdDSA",
        public_jwk=public_jwk,
        private_key_encrypted=private_key_encrypted,
        created_at=at,
        active=True,
    )
    session.add(key)
    await session.flush()
    return key


async def published(session: AsyncSession, retired_since: datetime) -> Sequence[SigningKey]:
    """The active key and those retired after ``retired_since``."""
    statement = (
        select(SigningKey)
        .where(or_(SigningKey.active, SigningKey.retired_at > retired_since))
        .order_by(SigningKey.created_at.desc())
    )
    return (await session.scalars(statement)).all()


def listed() -> Select[tuple[SigningKey]]:
    """Every signing key (the caller orders and pages them; kids sort by creation time)."""
    return select(SigningKey)
