"""Every SQL statement of the reports domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from onesource.catalog.models import ElementClaim, Resource


async def copied_fields(session: AsyncSession, *, department: str | None) -> Sequence[Any]:
    """Non-authoritative fields of published resources, with the published owner of what they copy."""
    copy = aliased(ElementClaim, name="copy")
    owner = aliased(ElementClaim, name="owner")
    statement = (
        select(
            copy.provider,
            copy.resource_id,
            Resource.name,
            copy.field,
            copy.element,
            copy.source_element,
            owner.resource_id.label("owner_resource"),
            owner.field.label("owner_field"),
            owner.provider.label("owner_provider"),
        )
        .join(Resource, Resource.id == copy.resource_id)
        .outerjoin(
            owner,
            and_(
                owner.element == copy.source_element,
                owner.authoritative,
                owner.resource_status == "published",
            ),
        )
        .where(~copy.authoritative, copy.resource_status == "published")
        .order_by(copy.provider, copy.resource_id, copy.field)
    )
    if department is not None:
        statement = statement.where(copy.provider == department)
    return (await session.execute(statement)).all()
