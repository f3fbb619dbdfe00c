"""``Idempotency-Key`` on the identity API's creating POSTs: the kit's store, with the answers encrypted.

A client's first answer carries its secret, so the stored body is sealed (AES-GCM, bound to the client and key).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.dependencies import SettingsDep
from onesource.gateway.keys.crypto import SecretBox
from onesource.gateway.models import IdempotencyRecord
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.idempotency import Idempotency, IdempotencyKey, request_fingerprint


class SealedIdempotency(Idempotency):
    """The kit's store, keeping each first answer encrypted."""

    def __init__(self, key: str | None, principal: str, fingerprint: str, box: SecretBox) -> None:
        super().__init__(key, principal, fingerprint, IdempotencyRecord, etag_from_version=False)
        self._box = box

    async def replay(self, session: AsyncSession, headers: dict[str, str] | None = None) -> Response | None:
        """The stored first answer for this key, or ``None`` when this is the first request with it."""
        record = await self.first_record(session)
        if record is None:
            return None
        body = self._box.open(record.body_encrypted, context=self.context)
        return Response(body, status_code=record.status, media_type="application/json", headers=headers)

    def _record(self, status: int, answer: BaseModel) -> Any:
        return IdempotencyRecord(
            principal=self.principal,
            key=self.key,
            fingerprint=self.fingerprint,
            status=status,
            body_encrypted=self._box.seal(answer.model_dump_json().encode(), context=self.context),
        )


async def _idempotency(
    request: Request, principal: CurrentPrincipal, settings: SettingsDep, key: IdempotencyKey = None
) -> Idempotency:
    box = SecretBox(settings.key_encryption_secret, "idempotency/v1")
    return SealedIdempotency(key, principal.client_id, await request_fingerprint(request), box)


IdempotencyDep = Annotated[Idempotency, Depends(_idempotency)]
"""The request's ``Idempotency-Key`` handling."""
