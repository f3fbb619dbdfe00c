"""The active-grants read model, fed by the exchange's grant events; retiring a resource consults it."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.grants import repository
from onesource.catalog.grants.schemas import EXPIRED, ISSUED, REVOKED, GrantData
from onesource.kit.events import CloudEvent

logger = logging.getLogger(__name__)

_STATUS_BY_TYPE = {ISSUED: "active", REVOKED: "revoked", EXPIRED: "expired"}


async def handle_grant_event(session: AsyncSession, event: CloudEvent) -> None:
    """Apply one grant event (run once per event id by the kit's consumer, in its transaction)."""
    grant = GrantData.model_validate(event.data)
    # Other grant events (a narrowed or renewed grant) carry the grant's current status themselves.
    status = _STATUS_BY_TYPE.get(event.type, grant.status)
    await repository.upsert(session, grant, status)
    logger.info("grant %s on %s is %s", grant.id, grant.resource, status)
