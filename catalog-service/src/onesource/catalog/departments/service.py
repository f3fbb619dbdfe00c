"""The departments read model, fed by the gateway's department events: a resource's provider must be one of them."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.departments import repository
from onesource.catalog.departments.errors import UnknownProvider
from onesource.catalog.departments.schemas import DepartmentData
from onesource.kit.events import CloudEvent

logger = logging.getLogger(__name__)


async def handle_department_event(session: AsyncSession, event: CloudEvent) -> None:
    """Apply one department event (run once per event id by the kit's consumer, in its transaction)."""
    department = DepartmentData.model_validate(event.data)
    await repository.upsert(session, department)
    logger.info("department %s is %s (%s)", department.code, department.name, department.uscc)


async def ensure_exists(session: AsyncSession, code: str) -> None:
    """Refuse a provider the platform has not registered as a department (409 ``unknown-provider``)."""
    if await repository.get(session, code) is None:
        raise UnknownProvider(
            f"provider {code!r} is no registered department: platform admins register departments "
            "(POST /api/identity/v1/departments) before their resources are described; a department registered "
            "a moment ago is known here within seconds",
            provider=code,
        )
