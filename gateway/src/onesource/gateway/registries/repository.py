"""Every SQL statement of the registry read model."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.registries.models import CatalogRegistry
from onesource.gateway.registries.schemas import RegistryDocument


async def upsert(session: AsyncSession, document: RegistryDocument) -> bool:
    """Keep ``document`` unless a newer version is known (a late, older event is ignored); whether the row changed."""
    statement = insert(CatalogRegistry).values(service=document.service, owner=document.owner, version=document.version)
    excluded = statement.excluded
    changed = await session.execute(
        statement.on_conflict_do_update(
            index_elements=[CatalogRegistry.service],
            set_={"owner": excluded.owner, "version": excluded.version, "updated_at": func.now()},
            where=CatalogRegistry.version < excluded.version,
        ).returning(CatalogRegistry.service)
    )
    return changed.first() is not None


async def every(session: AsyncSession) -> Sequence[CatalogRegistry]:
    """Every known registry."""
    return (await session.scalars(select(CatalogRegistry))).all()


async def by_services(session: AsyncSession, services: Collection[str]) -> Sequence[CatalogRegistry]:
    """The rows of ``services`` that exist."""
    statement = select(CatalogRegistry).where(CatalogRegistry.service.in_(list(services)))
    return (await session.scalars(statement)).all()


async def owner_of(session: AsyncSession, service: str) -> str | None:
    """The department that owns ``service``, or ``None`` when the catalog named no owner."""
    owner: str | None = await session.scalar(select(CatalogRegistry.owner).where(CatalogRegistry.service == service))
    return owner
