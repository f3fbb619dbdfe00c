"""``Idempotency-Key`` on registrations (the kit's store, on the registry's own table)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from onesource.kit.idempotency import Idempotency, idempotency_for
from onesource.population.models import IdempotencyRecord

IdempotencyDep = Annotated[Idempotency, Depends(idempotency_for(IdempotencyRecord, etag_from_version=True))]
"""The request's ``Idempotency-Key`` handling; a replayed person carries its ``ETag`` as the first answer did."""
