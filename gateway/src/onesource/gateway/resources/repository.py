"""Every SQL statement of the catalog resource read model."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.resources.models import CatalogResource
from onesource.gateway.resources.schemas import ResourceDocument, ResourceStatus


async def upsert(session: AsyncSession, document: ResourceDocument, status: ResourceStatus) -> bool:
    """Keep ``document`` unless a newer version is known; returns whether the row changed.

    A resource only moves forward by version: a late, older version is ignored. A retirement of the version
    already held is applied (the catalog retires without a new version).
    """
    values = {
        "id": document.id,
        "version": document.version,
        "status": status,
        "provider": document.provider,
        "service": document.service,
        "paths": list(document.paths),
        "key": document.key,
        "shape": document.shape,
        "fields": [field.name for field in document.fields],
        "filters": document.filters,
    }
    statement = insert(CatalogResource).values(**values)
    excluded = statement.excluded
    changed = await session.execute(
        statement.on_conflict_do_update(
            index_elements=[CatalogResource.id],
            set_={**{name: excluded[name] for name in values if name != "id"}, "updated_at": func.now()},
            where=or_(
                CatalogResource.version < excluded.version,
                and_(
                    CatalogResource.version == excluded.version,
                    excluded.status == "retired",
                    CatalogResource.status != "retired",
                ),
            ),
        ).returning(CatalogResource.id)
    )
    return changed.first() is not None


async def get(session: AsyncSession, resource_id: str) -> CatalogResource | None:
    """The latest known version of a resource."""
    return await session.get(CatalogResource, resource_id)


async def published(session: AsyncSession) -> Sequence[CatalogResource]:
    """Every published resource that names its service."""
    statement = select(CatalogResource).where(
        CatalogResource.status == "published", CatalogResource.service.is_not(None)
    )
    return (await session.scalars(statement)).all()


async def by_ids(session: AsyncSession, ids: Collection[str]) -> Sequence[CatalogResource]:
    """The rows of ``ids`` that exist, whatever their status."""
    statement = select(CatalogResource).where(CatalogResource.id.in_(list(ids)))
    return (await session.scalars(statement)).all()
