"""The registry read model's rules: folding the catalog's ``registry.assigned`` events in.

The catalog is the directory of who owns which datum; the gateway trusts a resource on a registry only when its
provider is the registry's owner (see :mod:`onesource.gateway.resources.matching`), and when it knows no owner it
trusts no resource on it (fails closed).
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.registries import repository
from onesource.gateway.registries.schemas import ASSIGNED, RegistryDocument
from onesource.kit.events import CloudEvent

logger = logging.getLogger(__name__)

EVENT_TYPES = frozenset({ASSIGNED})


async def apply_event(session: AsyncSession, event: CloudEvent) -> str | None:
    """Fold one registry event into the table; the service name when its row changed, else ``None``."""
    if event.type not in EVENT_TYPES:
        return None
    document = RegistryDocument.model_validate(event.data)
    changed = await repository.upsert(session, document)
    if changed:
        logger.info("registry %s v%d is owned by %s", document.service, document.version, document.owner)
    return document.service if changed else None
