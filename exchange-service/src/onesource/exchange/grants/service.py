"""Business rules of grants: issuing, who sees which, revocation and expiry, each with its event."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.exchange.dependencies import sees_everything
from onesource.exchange.grants import repository
from onesource.exchange.grants.errors import GrantNotActive, GrantNotFound
from onesource.exchange.grants.events import GrantEvent, GrantExpired, GrantIssued, GrantRevoked
from onesource.exchange.models import AccessGrant, ShareRequest
from onesource.kit import outbox
from onesource.kit.auth import GATEWAY_ROLE, Principal
from onesource.kit.errors import Forbidden
from onesource.kit.pagination import Slice, paginate


def _event(kind: type[GrantEvent], grant: AccessGrant) -> GrantEvent:
    return kind(
        id=grant.id,
        share_request_id=grant.share_request_id,
        department=grant.department,
        resource=grant.resource,
        provider=grant.provider,
        fields=list(grant.fields),
        purpose=grant.purpose,
        row_scope=grant.row_scope,
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        status=grant.status,  # type: ignore[arg-type]  # the table's check constraint keeps it to the three
        revoked_reason=grant.revoked_reason,
    )


async def issue(session: AsyncSession, request: ShareRequest, fields: list[str], now: datetime) -> AccessGrant:
    """Issue the grant answering ``request`` for ``fields``, valid from ``now`` for the requested duration."""
    grant = AccessGrant(
        share_request_id=request.id,
        department=request.consumer,
        resource=request.resource,
        provider=request.provider,
        fields=fields,
        purpose=request.purpose,
        row_scope=request.row_scope,
        valid_from=now,
        valid_until=now + timedelta(days=request.duration_days),
        status="active",
    )
    session.add(grant)
    await session.flush()
    outbox.add(session, _event(GrantIssued, grant))
    return grant


def _sees_own_department(principal: Principal) -> bool:
    # The gateway's own token acting for a department (its ``dept``) reads that department's grants, to check a
    # data call while its grant cache is still catching up; like a consumer, never another department's.
    return principal.has_role("consumer", GATEWAY_ROLE)


def visibility(principal: Principal) -> ColumnElement[bool] | None:
    """Which grants the caller may see: its department's (consumers, gateway), those on its resources (stewards)."""
    if sees_everything(principal):
        return None
    clauses: list[ColumnElement[bool]] = []
    if _sees_own_department(principal):
        clauses.append(AccessGrant.department == principal.department)
    if principal.has_role("steward"):
        clauses.append(AccessGrant.provider == principal.department)
    if not clauses:
        raise Forbidden("requires one of the roles: consumer, steward, coordinator, admin")
    return or_(*clauses)


def may_see(principal: Principal, grant: AccessGrant) -> bool:
    """Whether the caller may see ``grant``."""
    if sees_everything(principal):
        return True
    return (_sees_own_department(principal) and grant.department == principal.department) or (
        principal.has_role("steward") and grant.provider == principal.department
    )


async def get(session: AsyncSession, principal: Principal, grant_id: str) -> AccessGrant:
    """The grant, if the caller may see it (404 when missing, 403 when another department's)."""
    grant = await repository.get(session, grant_id)
    if grant is None:
        raise GrantNotFound(f"no grant has id {grant_id!r}")
    if not may_see(principal, grant):
        raise Forbidden(f"department {principal.department!r} may not see grant {grant_id!r}")
    return grant


async def page(
    session: AsyncSession,
    principal: Principal,
    *,
    resource: str | None,
    status: str | None,
    department: str | None,
    limit: int,
    cursor: str | None,
) -> Slice[AccessGrant]:
    """One page of the grants the caller may see, in id order."""
    statement = repository.listed(
        visible=visibility(principal),
        resource=resource,
        status=status,
        department=department,
    )
    return await paginate(session, statement, order=[AccessGrant.id], limit=limit, cursor=cursor)


async def revoke(session: AsyncSession, principal: Principal, grant_id: str, reason: str, now: datetime) -> AccessGrant:
    """Revoke a grant (provider's steward, coordinator, admin): deliveries under it stop with this commit."""
    grant = await repository.get(session, grant_id, for_update=True)
    if grant is None:
        raise GrantNotFound(f"no grant has id {grant_id!r}")
    if not sees_everything(principal) and grant.provider != principal.department:
        raise Forbidden(f"only stewards of {grant.provider!r}, coordinators and admins may revoke this grant")
    if grant.status != "active":
        raise GrantNotActive(f"grant {grant_id!r} is already {grant.status}", status_now=grant.status)
    grant.status = "revoked"
    grant.revoked_reason = reason
    grant.revoked_by = principal.client_id
    grant.revoked_at = now
    await session.flush()
    outbox.add(session, _event(GrantRevoked, grant))
    return grant


async def expire_lapsed(session: AsyncSession, now: datetime) -> list[AccessGrant]:
    """Expire every active grant whose validity ended by ``now``; one ``grant.expired`` event each."""
    expired: list[AccessGrant] = []
    for grant in await repository.lapsed(session, now):
        grant.status = "expired"
        grant.expired_at = now
        expired.append(grant)
    await session.flush()
    for grant in expired:
        outbox.add(session, _event(GrantExpired, grant))
    return expired
