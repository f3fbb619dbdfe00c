"""The catalog read model: kept from the catalog's resource events, with an HTTP look-up for unknown resources."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.exchange.models import CatalogResource
from onesource.exchange.resources import repository
from onesource.exchange.resources.catalog import CatalogClient
from onesource.exchange.resources.errors import ResourceNotFound, ResourceNotShareable
from onesource.exchange.resources.schemas import RegistryDocument, ResourceDocument
from onesource.kit.events import CloudEvent

logger = logging.getLogger(__name__)

RESOURCE_TOPIC = "onesource.catalog.resource.v1"
REGISTRY_TOPIC = "onesource.catalog.registry.v1"
PUBLISHED = "gov.onesource.catalog.resource.published.v1"
CHANGED = "gov.onesource.catalog.resource.changed.v1"
RETIRED = "gov.onesource.catalog.resource.retired.v1"
ASSIGNED = "gov.onesource.catalog.registry.assigned.v1"


async def apply_catalog_event(session: AsyncSession, event: CloudEvent) -> None:
    """Fold one catalog resource or registry event into the read model (consumer handler)."""
    if event.type == ASSIGNED:
        await repository.upsert_registry(session, RegistryDocument.model_validate(event.data))
        return
    if event.type not in (PUBLISHED, CHANGED, RETIRED):
        return
    document = ResourceDocument.model_validate(event.data)
    if event.type == RETIRED:
        document = document.model_copy(update={"status": "retired"})
    await repository.upsert(session, document)


async def find(session: AsyncSession, resource_id: str, catalog: CatalogClient | None) -> CatalogResource:
    """The resource, asking the catalog when the read model does not know it; 404 when nobody does."""
    resource = await repository.get(session, resource_id)
    if resource is None and catalog is not None:
        document = await catalog.resource(resource_id)
        if document is not None:
            await repository.upsert(session, document)
            resource = await repository.get(session, resource_id)
    if resource is None:
        raise ResourceNotFound(f"the catalog has no resource {resource_id!r}", resource=resource_id)
    return resource


async def shareable(session: AsyncSession, resource_id: str, catalog: CatalogClient | None) -> CatalogResource:
    """The published resource; 404 when unknown, 409 when retired or not yet published."""
    resource = await find(session, resource_id, catalog)
    if resource.status != "published":
        raise ResourceNotShareable(
            f"resource {resource_id!r} is {resource.status}, not published", resource=resource_id
        )
    return resource
