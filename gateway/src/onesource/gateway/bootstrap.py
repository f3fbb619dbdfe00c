"""Start-up: an active signing key always; the platform department and the ``admin`` client when configured.

``ONESOURCE_BOOTSTRAP_ADMIN_SECRET`` is the source of truth for the admin's secret: a different stored secret is
replaced, and the admin is re-enabled with the ``admin`` role. A transaction-level advisory lock makes
concurrent start-ups of several gateways take turns.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.clients import hashing
from onesource.gateway.clients import repository as clients
from onesource.gateway.clients.events import ClientEnabled, ClientRegistered, ClientSecretRotated
from onesource.gateway.departments import repository as departments
from onesource.gateway.departments.events import DepartmentRegistered
from onesource.gateway.departments.uscc import check_character
from onesource.gateway.keys import service as keys
from onesource.gateway.settings import Settings
from onesource.kit import outbox

logger = logging.getLogger(__name__)

PLATFORM_DEPARTMENT = "platform"
PLATFORM_NAME = "平台管理"
#: 1 (机构编制) + 1 (机关) + 110000 (北京市) + organisation code MB0000001, check character per GB 32100-2015.
PLATFORM_USCC = "11110000MB0000001" + check_character("11110000MB0000001")
ADMIN_CLIENT = "admin"
_BOOTSTRAP_LOCK = 0x6761_7465_0001


async def ensure_admin(session: AsyncSession, secret: str) -> None:
    """The platform department and the ``admin`` client with ``secret``, enabled, holding the admin role."""
    department = await departments.insert_new(session, PLATFORM_DEPARTMENT, PLATFORM_NAME, PLATFORM_USCC)
    if department is not None:
        outbox.add(session, DepartmentRegistered(code=department.code, name=department.name, uscc=department.uscc))
    admin = await clients.get(session, ADMIN_CLIENT, for_update=True)
    if admin is None:
        admin = await clients.insert_new(
            session,
            client_id=ADMIN_CLIENT,
            department=PLATFORM_DEPARTMENT,
            name="Platform administrator",
            roles=["admin"],
            secret_hash=await hashing.hash_secret(secret),
        )
        if admin is not None:
            logger.info("bootstrap: created the admin client")
            outbox.add(
                session,
                ClientRegistered(
                    client_id=admin.client_id, department=admin.department, name=admin.name, roles=["admin"]
                ),
            )
        return
    if not await hashing.verify_secret(secret, admin.secret_hash):
        logger.info("bootstrap: the admin secret changed; storing the configured one")
        admin.secret_hash = await hashing.hash_secret(secret)
        admin.secret_rotated_at = datetime.now(UTC)
        outbox.add(session, ClientSecretRotated(client_id=admin.client_id, department=admin.department))
    if "admin" not in admin.roles:
        admin.roles = [*admin.roles, "admin"]
    if admin.disabled:
        admin.disabled = False
        outbox.add(session, ClientEnabled(client_id=admin.client_id, department=admin.department))
    await session.flush()


async def run_bootstrap(session: AsyncSession, settings: Settings) -> None:
    """Everything the gateway needs before it answers, in the session's transaction."""
    await session.execute(select(func.pg_advisory_xact_lock(_BOOTSTRAP_LOCK)))
    await keys.ensure_active(session, settings)
    if settings.bootstrap_admin_secret is not None:
        await ensure_admin(session, settings.bootstrap_admin_secret.get_secret_value())


@asynccontextmanager
async def bootstrap(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan extension running :func:`run_bootstrap` once at start-up."""
    async with app.state.sessionmaker() as session, session.begin():
        await run_bootstrap(session, app.state.settings)
    yield
