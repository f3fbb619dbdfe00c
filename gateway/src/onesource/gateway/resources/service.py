"""The catalog resource read model's rules: folding the catalog's events in, and what the data path keeps of a row."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.resources import repository
from onesource.gateway.resources.models import CatalogResource
from onesource.gateway.resources.schemas import CHANGED, PUBLISHED, RETIRED, Resource, ResourceDocument
from onesource.kit.events import CloudEvent

logger = logging.getLogger(__name__)

EVENT_TYPES = frozenset({PUBLISHED, CHANGED, RETIRED})


async def apply_event(session: AsyncSession, event: CloudEvent) -> str | None:
    """Fold one catalog resource event into the table; the resource id when its row changed, else ``None``."""
    if event.type not in EVENT_TYPES:
        return None
    document = ResourceDocument.model_validate(event.data)
    # A retirement covers nothing from then on, whatever status its document carries.
    status = "retired" if event.type == RETIRED else document.status
    changed = await repository.upsert(session, document, status)
    if changed:
        logger.info("resource %s v%d is %s", document.id, document.version, status)
    return document.id if changed else None


def entry(row: CatalogResource | ResourceDocument) -> Resource | None:
    """What the data path keeps of a row or document: ``None`` unless it is published on a service."""
    if row.status != "published" or not row.service:
        return None
    fields = row.fields if isinstance(row, CatalogResource) else [field.name for field in row.fields]
    return Resource(
        id=row.id,
        version=row.version,
        provider=row.provider,
        service=row.service,
        paths=tuple(row.paths),
        key=row.key,
        fields=frozenset(fields),
        shape=row.shape,  # type: ignore[arg-type]  # checked by the table's constraint
        filters=tuple((name, frozenset(needed)) for name, needed in sorted(row.filters.items())),
    )
