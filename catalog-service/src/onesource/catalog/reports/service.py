"""Reports for coordinators: re-collection (避免重复采集)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.elements.schemas import ElementOwner
from onesource.catalog.reports import repository
from onesource.catalog.reports.schemas import CopiedField
from onesource.kit.auth import Principal
from onesource.kit.errors import Forbidden
from onesource.kit.pagination import Slice, paginate


async def recollection(
    session: AsyncSession, principal: Principal, department: str | None, *, limit: int, cursor: str | None
) -> Slice[CopiedField]:
    """One page of copies by department, resource and field: coordinators and admins see all; stewards their own."""
    if not principal.has_role("coordinator", "admin"):
        if not principal.has_role("steward"):
            raise Forbidden("the re-collection report is for coordinators, admins and stewards (their department)")
        if department is not None and department != principal.department:
            raise Forbidden(f"a steward of {principal.department!r} sees only its own department's report")
        department = principal.department
    page = await paginate(
        session,
        repository.copied_fields(department=department),
        order=repository.ORDER,
        limit=limit,
        cursor=cursor,
        rows=True,
    )
    fields = [
        CopiedField(
            department=row.provider,
            resource=row.resource_id,
            resource_name=row.name,
            field=row.field,
            element=row.element,
            source_element=row.source_element,
            owner=ElementOwner(
                element=row.source_element,
                resource=row.owner_resource,
                field=row.owner_field,
                provider=row.owner_provider,
            )
            if row.owner_resource is not None
            else None,
            obtainable=row.owner_resource is not None,
        )
        for row in page.items
    ]
    return Slice(items=fields, next_cursor=page.next_cursor)
