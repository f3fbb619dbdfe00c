"""``Idempotency-Key`` on the exchange's creating POSTs (the kit's store, on the exchange's own table)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from onesource.exchange.models import IdempotencyRecord
from onesource.kit.idempotency import Idempotency, idempotency_for

IdempotencyDep = Annotated[Idempotency, Depends(idempotency_for(IdempotencyRecord))]
"""The request's ``Idempotency-Key`` handling."""
