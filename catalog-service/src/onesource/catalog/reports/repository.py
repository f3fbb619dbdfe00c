"""Every SQL statement of the reports domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import aliased

from onesource.catalog.models import ElementClaim, Resource

COPY = aliased(ElementClaim, name="copy")
OWNER = aliased(ElementClaim, name="owner")
#: The report's order, which is also its keyset: department, resource, field.
ORDER = (COPY.provider, COPY.resource_id, COPY.field)


def copied_fields(*, department: str | None) -> Select[Any]:
    """Non-authoritative fields of published resources, with the published owner of what they copy (to be paged)."""
    statement = (
        select(
            COPY.provider,
            COPY.resource_id,
            Resource.name,
            COPY.field,
            COPY.element,
            COPY.source_element,
            OWNER.resource_id.label("owner_resource"),
            OWNER.field.label("owner_field"),
            OWNER.provider.label("owner_provider"),
        )
        .join(Resource, Resource.id == COPY.resource_id)
        .outerjoin(
            OWNER,
            and_(
                OWNER.element == COPY.source_element,
                OWNER.authoritative,
                OWNER.resource_status == "published",
            ),
        )
        .where(~COPY.authoritative, COPY.resource_status == "published")
    )
    if department is not None:
        statement = statement.where(COPY.provider == department)
    return statement
