"""Business rules of clients: registration, secret rotation, disabling, and checking credentials."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.clients import hashing, repository
from onesource.gateway.clients.errors import ClientNotFound, DuplicateClient, ReservedClientId, UnknownDepartment
from onesource.gateway.clients.events import ClientDisabled, ClientEnabled, ClientRegistered, ClientSecretRotated
from onesource.gateway.clients.schemas import ClientCreate
from onesource.gateway.departments import repository as departments
from onesource.gateway.models import Client
from onesource.kit import outbox
from onesource.kit.auth import ROLES
from onesource.kit.pagination import Slice, cut, decode_cursor


def _normalised_roles(roles: list[str]) -> list[str]:
    # Stored in the kit's canonical order, once each.
    return [role for role in ROLES if role in roles]


#: Client ids that name the platform itself: the bootstrap admin, the gateway's own service tokens (``sub``), the
#: platform's services. A client registered under one could pass for them in tokens, audit entries and revocations.
RESERVED_CLIENT_IDS = frozenset(
    {
        "admin",
        "gateway",
        "catalog",
        "exchange",
        "identity",
        "audit",
        "portal",
        "onesource",
        "platform",
        "system",
        "root",
    }
)


async def register(session: AsyncSession, create: ClientCreate) -> tuple[Client, str]:
    """Register a client; returns it with its one-time plaintext secret."""
    if create.client_id in RESERVED_CLIENT_IDS:
        raise ReservedClientId(
            f"client id {create.client_id!r} is reserved for the platform itself", client_id=create.client_id
        )
    if await departments.get(session, create.department) is None:
        raise UnknownDepartment(create.department)
    client_id = create.client_id or f"{create.department}-{secrets.token_hex(4)}"
    secret = hashing.new_secret()
    client = await repository.insert_new(
        session,
        client_id=client_id,
        department=create.department,
        name=create.name,
        roles=_normalised_roles(list(create.roles)),
        secret_hash=await hashing.hash_secret(secret),
    )
    if client is None:
        raise DuplicateClient(f"a client with id {client_id!r} already exists", client_id=client_id)
    outbox.add(
        session,
        ClientRegistered(
            client_id=client.client_id, department=client.department, name=client.name, roles=client.roles
        ),
    )
    return client, secret


async def get(session: AsyncSession, client_id: str, *, for_update: bool = False) -> Client:
    """The client with ``client_id``; :class:`ClientNotFound` (404) otherwise."""
    client = await repository.get(session, client_id, for_update=for_update)
    if client is None:
        raise ClientNotFound(f"no client has id {client_id!r}")
    return client


async def rotate_secret(session: AsyncSession, client_id: str) -> tuple[Client, str]:
    """Replace the client's secret; the old one stops working when this transaction commits."""
    client = await get(session, client_id, for_update=True)
    secret = hashing.new_secret()
    client.secret_hash = await hashing.hash_secret(secret)
    client.secret_rotated_at = datetime.now(UTC)
    await session.flush()
    outbox.add(session, ClientSecretRotated(client_id=client.client_id, department=client.department))
    return client, secret


async def set_disabled(session: AsyncSession, client_id: str, disabled: bool) -> Client:
    """Disable or enable a client; an event is written only when the state changes."""
    client = await get(session, client_id, for_update=True)
    if client.disabled == disabled:
        return client
    client.disabled = disabled
    if disabled:
        client.disabled_at = datetime.now(UTC)
        event: ClientDisabled | ClientEnabled = ClientDisabled(client_id=client_id, department=client.department)
    else:
        event = ClientEnabled(client_id=client_id, department=client.department)
    await session.flush()
    outbox.add(session, event)
    return client


async def page(session: AsyncSession, *, department: str | None, limit: int, cursor: str | None) -> Slice[Client]:
    """One page of clients in id order."""
    rows = await repository.page(session, department=department, after=decode_cursor(cursor), limit=limit + 1)
    return cut(rows, limit, lambda client: client.client_id)


async def authenticate(session: AsyncSession, client_id: str, secret: str) -> Client | None:
    """The enabled client these credentials belong to, or ``None`` (the same time is spent either way)."""
    client = await repository.get(session, client_id)
    matches = await hashing.verify_secret(secret, client.secret_hash if client else hashing.DUMMY_HASH)
    if client is None or not matches or client.disabled:
        return None
    return client
