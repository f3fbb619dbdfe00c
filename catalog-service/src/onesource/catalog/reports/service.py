"""Reports for coordinators: re-collection (避免重复采集)."""

from __future__ import annotations

from itertools import groupby

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.elements.schemas import ElementOwner
from onesource.catalog.reports import repository
from onesource.catalog.reports.schemas import CopiedField, DepartmentCopies, RecollectionReport
from onesource.kit.auth import Principal
from onesource.kit.errors import Forbidden


async def recollection(session: AsyncSession, principal: Principal, department: str | None) -> RecollectionReport:
    """Copies per department: coordinators and admins see all; stewards their own department only."""
    if not principal.has_role("coordinator", "admin"):
        if not principal.has_role("steward"):
            raise Forbidden("the re-collection report is for coordinators, admins and stewards (their department)")
        if department is not None and department != principal.department:
            raise Forbidden(f"a steward of {principal.department!r} sees only its own department's report")
        department = principal.department
    rows = await repository.copied_fields(session, department=department)
    departments: list[DepartmentCopies] = []
    for provider, group in groupby(rows, key=lambda row: row.provider):
        fields = [
            CopiedField(
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
            )
            for row in group
        ]
        departments.append(
            DepartmentCopies(
                department=provider, fields=fields, obtainable=sum(field.owner is not None for field in fields)
            )
        )
    return RecollectionReport(departments=departments)
