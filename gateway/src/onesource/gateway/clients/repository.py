"""Every SQL statement of the clients domain."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.models import Client


async def get(session: AsyncSession, client_id: str, *, for_update: bool = False) -> Client | None:
    """The client with ``client_id``."""
    return await session.get(Client, client_id, with_for_update=for_update, populate_existing=for_update)


async def insert_new(
    session: AsyncSession, *, client_id: str, department: str, name: str, roles: list[str], secret_hash: str
) -> Client | None:
    """Insert a client unless its id exists (race-safe); ``None`` when it did exist."""
    statement = (
        insert(Client)
        .values(client_id=client_id, department=department, name=name, roles=roles, secret_hash=secret_hash)
        .on_conflict_do_nothing(index_elements=[Client.client_id])
        .returning(Client)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).first()


def listed(*, department: str | None) -> Select[tuple[Client]]:
    """The clients, optionally of one department (the caller orders and pages them)."""
    statement = select(Client)
    if department is not None:
        statement = statement.where(Client.department == department)
    return statement
