"""Business rules of registries: who owns each registry, and what a resource's provider may describe.

一数一源: every registry (population, legal entities, geo, macroeconomy …) belongs to exactly one department. The
catalog is the directory of who owns which datum, so the owner is kept here, set only by platform admins
(``PUT /v1/registries/{service}``), and announced as ``registry.assigned`` events that the gateway keeps. A resource
may name a registry's ``service`` (its paths) or one of its source topics (``onesource.<service>.…``) only when its
provider owns that registry: a catalog entry can never open another department's data.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.models import Registry as RegistryRow
from onesource.catalog.registries import repository
from onesource.catalog.registries.errors import (
    RegistryNotFound,
    RegistryNotOwned,
    ReservedService,
    UnknownRegistry,
)
from onesource.catalog.registries.events import RegistryAssigned
from onesource.catalog.registries.schemas import Registry, RegistryAssignment
from onesource.kit import outbox
from onesource.kit.auth import Principal
from onesource.kit.concurrency import check_version, expected_version
from onesource.kit.errors import PreconditionFailed
from onesource.kit.events import registry_of_topic
from onesource.kit.pagination import Slice, paginate

#: The platform's own services (and the namespace of delivery topics): never registries.
PLATFORM_SERVICES = frozenset({"gateway", "identity", "audit", "catalog", "exchange", "portal", "delivery"})


def to_document(row: RegistryRow) -> Registry:
    """The registry as the API shows it."""
    return Registry.model_validate(row)


async def get(session: AsyncSession, service: str) -> Registry:
    """The registry ``service``; 404 when none is known."""
    row = await repository.get(session, service)
    if row is None:
        raise RegistryNotFound(f"no registry named {service!r}; platform admins assign one with PUT")
    return to_document(row)


async def listed(session: AsyncSession, *, limit: int, cursor: str | None) -> Slice[Registry]:
    """One page of registries in service order."""
    page = await paginate(session, repository.listed(), order=[RegistryRow.service], limit=limit, cursor=cursor)
    return Slice(items=[to_document(row) for row in page.items], next_cursor=page.next_cursor)


async def assign(
    session: AsyncSession, principal: Principal, service: str, assignment: RegistryAssignment, if_match: str | None
) -> tuple[Registry, bool]:
    """Give ``service`` its owner (the caller is an admin); the registry, and whether it was created.

    ``If-Match``, when sent, must name the current version (412 otherwise). Assigning the owner it has already
    changes nothing and emits nothing; a new owner is a new version and a ``registry.assigned`` event.
    """
    if service in PLATFORM_SERVICES:
        raise ReservedService(f"{service!r} is a platform service, not a registry", service=service)
    row = await repository.get(session, service, for_update=True)
    _check_version(row, if_match)
    now = datetime.now(UTC)
    created = row is None
    if row is None:
        row = RegistryRow(
            service=service, owner=assignment.owner, version=1, updated_by=principal.client_id, updated_at=now
        )
        repository.add(session, row)
    elif row.owner == assignment.owner:
        return to_document(row), False
    else:
        row.owner = assignment.owner
        row.version += 1
        row.updated_by = principal.client_id
        row.updated_at = now
    await session.flush()
    outbox.add(
        session, RegistryAssigned(service=row.service, owner=row.owner, version=row.version, updated_at=row.updated_at)
    )
    return to_document(row), created


def _check_version(row: RegistryRow | None, if_match: str | None) -> None:
    if if_match is None:
        return
    expected = expected_version(if_match)
    if row is None:
        raise PreconditionFailed("If-Match names a version, but the registry does not exist yet")
    check_version(row.version, expected)


async def ensure_provider_owns(session: AsyncSession, provider: str, service: str | None, topic: str | None) -> None:
    """Refuse a resource of ``provider`` that names a registry (``service``, or ``topic``) it does not own.

    403 ``registry-not-owned`` when another department owns it; 409 ``unknown-registry`` when no registry of that
    name is known (nobody may describe data whose owner the platform does not know). A topic must be a source topic
    of a registry the provider owns: any other topic (another registry's, a delivery or platform topic) would let
    subscriptions to the resource carry data that is not the provider's.
    """
    if service is not None:
        await _ensure_owner(session, provider, service, what=f"service {service!r}")
    if topic is not None:
        registry = registry_of_topic(topic)
        if registry is None or registry in PLATFORM_SERVICES:
            raise RegistryNotOwned(
                f"topic {topic!r} is not a registry's source topic (onesource.<service>.…); a resource names a source "
                "topic of a registry its provider owns",
                topic=topic,
            )
        await _ensure_owner(session, provider, registry, what=f"topic {topic!r}")


async def _ensure_owner(session: AsyncSession, provider: str, service: str, *, what: str) -> None:
    row = await repository.get(session, service)
    if row is None:
        raise UnknownRegistry(
            f"{what} names no known registry: platform admins assign each registry its owner "
            "(PUT /v1/registries/{service}) before its resources are described",
            service=service,
        )
    if row.owner != provider:
        raise RegistryNotOwned(
            f"{what} belongs to registry {service!r}, owned by department {row.owner!r}; only that department's "
            f"resources may describe it, not department {provider!r}'s",
            service=service,
            owner=row.owner,
        )
