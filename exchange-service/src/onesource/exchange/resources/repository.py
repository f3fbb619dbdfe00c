"""Every SQL statement of the catalog read model."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.exchange.models import CatalogRegistry, CatalogResource
from onesource.exchange.resources.schemas import RegistryDocument, ResourceDocument


async def get(session: AsyncSession, resource_id: str) -> CatalogResource | None:
    """The known latest version of a resource."""
    return await session.get(CatalogResource, resource_id)


async def upsert(session: AsyncSession, document: ResourceDocument) -> None:
    """Keep ``document`` unless a newer version is already known (late, older versions are ignored).

    A retirement of the version already held is applied; a repeat of a version is harmless.
    """
    values = {
        "id": document.id,
        "provider": document.provider,
        "share_type": document.share_type,
        "status": document.status,
        "version": document.version,
        "topic": document.topic,
        "legal_basis": document.legal_basis,
        "field_names": [field.name for field in document.fields],
        "document": document.model_dump(mode="json"),
    }
    statement = insert(CatalogResource).values(**values)
    excluded = statement.excluded
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[CatalogResource.id],
            set_={**{name: excluded[name] for name in values if name != "id"}, "updated_at": func.now()},
            where=or_(
                CatalogResource.version < excluded.version,
                and_(CatalogResource.version == excluded.version, excluded.status == "retired"),
            ),
        )
    )


async def source_topics(session: AsyncSession) -> Sequence[str]:
    """The source topics of every published resource."""
    statement = (
        select(CatalogResource.topic)
        .where(CatalogResource.status == "published", CatalogResource.topic.is_not(None))
        .distinct()
        .order_by(CatalogResource.topic)
    )
    return [topic for topic in (await session.scalars(statement)).all() if topic]


async def upsert_registry(session: AsyncSession, document: RegistryDocument) -> None:
    """Keep a registry's owner unless a newer version is already known."""
    statement = insert(CatalogRegistry).values(service=document.service, owner=document.owner, version=document.version)
    excluded = statement.excluded
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[CatalogRegistry.service],
            set_={"owner": excluded.owner, "version": excluded.version, "updated_at": func.now()},
            where=CatalogRegistry.version < excluded.version,
        )
    )
