"""``Idempotency-Key`` on the identity API's creating POSTs: the kit's store, with the answers encrypted.

A client's first answer carries its secret, so the stored body is sealed (AES-GCM, bound to the client and key).
The routes use the kit's ``idempotent`` decorator like every service; this is the store the gateway names in its
``ServiceSpec.idempotency``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.keys.crypto import SecretBox
from onesource.gateway.models import IdempotencyRecord
from onesource.gateway.settings import Settings
from onesource.kit.idempotency import Idempotency, StoredAnswer


class SealedIdempotency(Idempotency):
    """The kit's store, keeping each first answer encrypted."""

    def __init__(self, key: str | None, principal: str, fingerprint: str, box: SecretBox) -> None:
        super().__init__(key, principal, fingerprint, IdempotencyRecord)
        self._box = box

    async def first_answer(self, session: AsyncSession) -> StoredAnswer | None:
        """The stored first answer for this key, opened; ``None`` when this is the first request with it."""
        record = await self.first_record(session)
        if record is None:
            return None
        return StoredAnswer(record.status, json.loads(self._box.open(record.body_encrypted, context=self.context)))

    def _record(self, status: int, answer: BaseModel) -> Any:
        return IdempotencyRecord(
            principal=self.principal,
            key=self.key,
            fingerprint=self.fingerprint,
            status=status,
            body_encrypted=self._box.seal(answer.model_dump_json().encode(), context=self.context),
        )


def sealed_store(request: Request, key: str | None, principal: str, fingerprint: str) -> Idempotency:
    """The gateway's ``Idempotency-Key`` store (``ServiceSpec.idempotency``)."""
    settings: Settings = request.app.state.settings
    return SealedIdempotency(key, principal, fingerprint, SecretBox(settings.key_encryption_secret, "idempotency/v1"))
