"""Business rules of the correction loop (多元校核): a grant holder reports, the owner's stewards answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.exchange.corrections import repository
from onesource.exchange.corrections.errors import CorrectionClosed, CorrectionNotFound, FieldNotGranted, UnknownField
from onesource.exchange.corrections.events import (
    CorrectionDismissed,
    CorrectionEvent,
    CorrectionReported,
    CorrectionResolved,
)
from onesource.exchange.corrections.schemas import CorrectionCreate
from onesource.exchange.dependencies import sees_everything
from onesource.exchange.grants import repository as grants
from onesource.exchange.models import CatalogResource, Correction
from onesource.kit import outbox
from onesource.kit.auth import Principal
from onesource.kit.errors import Forbidden
from onesource.kit.pagination import Slice, paginate


def _event(kind: type[CorrectionEvent], correction: Correction) -> CorrectionEvent:
    return kind(
        id=correction.id,
        resource=correction.resource,
        provider=correction.provider,
        record_key=correction.record_key,
        field=correction.field,
        reported_value=correction.reported_value,
        suggested_value=correction.suggested_value,
        note=correction.note,
        reporter_department=correction.reporter_department,
        status=correction.status,
        resolution_note=correction.resolution_note,
    )


async def report(
    session: AsyncSession, principal: Principal, body: CorrectionCreate, resource: CatalogResource, now: datetime
) -> Correction:
    """Report a suspect datum; the department must hold an active grant covering the field."""
    if body.field not in resource.field_names:
        raise UnknownField(
            f"resource {resource.id!r} has no field {body.field!r}",
            invalid_params=[{"name": "body.field", "reason": "not a field of the resource"}],
        )
    active = await grants.active_for(session, principal.department, resource.id, now)
    if not any(body.field in grant.fields for grant in active):
        raise FieldNotGranted(
            f"department {principal.department!r} holds no active grant covering {resource.id}.{body.field}"
        )
    correction = Correction(
        resource=resource.id,
        provider=resource.provider,
        record_key=body.record_key,
        field=body.field,
        reported_value=body.reported_value,
        suggested_value=body.suggested_value,
        note=body.note,
        reporter_department=principal.department,
        reported_by=principal.client_id,
        status="open",
        created_at=now,
    )
    session.add(correction)
    await session.flush()
    outbox.add(session, _event(CorrectionReported, correction))
    return correction


def visibility(principal: Principal) -> ColumnElement[bool] | None:
    """Reporters see their department's reports, stewards those about their resources, coordinators all."""
    if sees_everything(principal):
        return None
    clauses: list[ColumnElement[bool]] = []
    if principal.has_role("consumer"):
        clauses.append(Correction.reporter_department == principal.department)
    if principal.has_role("steward"):
        clauses.append(Correction.provider == principal.department)
    if not clauses:
        raise Forbidden("requires one of the roles: consumer, steward, coordinator, admin")
    return or_(*clauses)


async def get(session: AsyncSession, principal: Principal, correction_id: str) -> Correction:
    """One report, if the caller may see it."""
    correction = await repository.get(session, correction_id)
    if correction is None:
        raise CorrectionNotFound(f"no correction report has id {correction_id!r}")
    visible = sees_everything(principal) or (
        (principal.has_role("consumer") and correction.reporter_department == principal.department)
        or (principal.has_role("steward") and correction.provider == principal.department)
    )
    if not visible:
        raise Forbidden(f"department {principal.department!r} may not see correction {correction_id!r}")
    return correction


async def page(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    resource: str | None,
    limit: int,
    cursor: str | None,
) -> Slice[Correction]:
    """One page of the reports the caller may see."""
    statement = repository.listed(
        visible=visibility(principal),
        status=status,
        resource=resource,
    )
    return await paginate(session, statement, order=[Correction.id], limit=limit, cursor=cursor)


async def answer(
    session: AsyncSession, principal: Principal, correction_id: str, *, resolve: bool, note: str, now: datetime
) -> Correction:
    """The owner's steward resolves (the datum was fixed in the registry) or dismisses a report."""
    correction = await repository.get(session, correction_id, for_update=True)
    if correction is None:
        raise CorrectionNotFound(f"no correction report has id {correction_id!r}")
    if correction.provider != principal.department:
        raise Forbidden(f"only stewards of {correction.provider!r} answer reports about {correction.resource!r}")
    if correction.status != "open":
        raise CorrectionClosed(f"correction {correction_id!r} is already {correction.status}")
    correction.status = "resolved" if resolve else "dismissed"
    correction.resolution_note = note
    correction.resolved_by = principal.client_id
    correction.resolved_at = now
    await session.flush()
    outbox.add(session, _event(CorrectionResolved if resolve else CorrectionDismissed, correction))
    return correction
