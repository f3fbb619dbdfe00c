"""Every SQL statement of the exports domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from onesource.catalog.models import ElementClaim, Resource


def published() -> Select[tuple[Resource]]:
    """The published resources (the caller orders and pages them)."""
    return select(Resource).where(Resource.status == "published")


async def source_codes(session: AsyncSession, resource_ids: Sequence[str]) -> dict[str, list[str]]:
    """Resource id → directory codes of the published resources owning the elements its fields copy."""
    if not resource_ids:
        return {}
    copy = aliased(ElementClaim, name="copy")
    owner = aliased(ElementClaim, name="owner")
    statement = (
        select(copy.resource_id, Resource.code)
        .join(
            owner,
            and_(
                owner.element == copy.source_element,
                owner.authoritative,
                owner.resource_status == "published",
                owner.resource_id != copy.resource_id,
            ),
        )
        .join(Resource, Resource.id == owner.resource_id)
        .where(copy.resource_id.in_(resource_ids), ~copy.authoritative)
        .distinct()
        .order_by(copy.resource_id, Resource.code)
    )
    codes: dict[str, list[str]] = {}
    for resource_id, code in (await session.execute(statement)).all():
        codes.setdefault(resource_id, []).append(code)
    return codes
