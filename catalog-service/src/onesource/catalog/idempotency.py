"""``Idempotency-Key`` on the catalog's creating POSTs (the kit's store, on the catalog's own table)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from onesource.catalog.models import IdempotencyRecord
from onesource.kit.idempotency import Idempotency, idempotency_for

IdempotencyDep = Annotated[Idempotency, Depends(idempotency_for(IdempotencyRecord, etag_from_version=True))]
"""The request's ``Idempotency-Key`` handling; a replayed resource carries its ``ETag`` as the first answer did."""
