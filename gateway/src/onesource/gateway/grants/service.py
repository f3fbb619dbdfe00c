"""The grant read model's rules: folding the exchange's events in, and what the data path keeps of a row."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.grants import repository
from onesource.gateway.grants.models import AccessGrant
from onesource.gateway.grants.schemas import (
    EXPIRED,
    GRANT_EVENT_PREFIX,
    REVOKED,
    Grant,
    GrantDocument,
    GrantStatus,
)
from onesource.kit.events import CloudEvent

logger = logging.getLogger(__name__)

#: The status an event type sets; other grant event types (a narrowed or renewed grant) carry it themselves.
_STATUS_BY_TYPE: dict[str, GrantStatus] = {REVOKED: "revoked", EXPIRED: "expired"}


async def apply_event(session: AsyncSession, event: CloudEvent) -> str | None:
    """Fold one grant event into the table; the grant id when its row changed, else ``None``."""
    if not event.type.startswith(GRANT_EVENT_PREFIX):
        return None
    document = GrantDocument.model_validate(event.data)
    status = _STATUS_BY_TYPE.get(event.type, document.status)
    changed = await repository.upsert(session, document, status)
    if changed:
        logger.info("grant %s of %s on %s is %s", document.id, document.department, document.resource, status)
    return document.id if changed else None


def _timestamp(moment: datetime) -> float:
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()


def entry(row: AccessGrant | GrantDocument) -> Grant | None:
    """What the data path keeps of a row or document: ``None`` unless the grant is active."""
    if row.status != "active":
        return None
    scope = None if row.row_scope is None else {name: tuple(prefixes) for name, prefixes in row.row_scope.items()}
    return Grant(
        id=row.id,
        department=row.department,
        resource=row.resource,
        fields=frozenset(row.fields),
        purpose=row.purpose,
        row_scope=scope,
        valid_from=_timestamp(row.valid_from),
        valid_until=_timestamp(row.valid_until),
    )
