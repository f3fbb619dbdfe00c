"""Business rules of share requests (需求导向、供方响应、协调确认).

States::

    submit ─┬─ unconditional ─────────────────────────────────────────────▶ granted
            ├─ not_shared ────────────────────────────────────────────────▶ refused
            └─ conditional ─▶ pending_provider ─ approve ─▶ pending_confirmation ─ confirm ─▶ granted
                                     │  (overdue: flagged + escalated, still pending)
                                     └─ reject ─▶ rejected ─ dispute ─▶ disputed ─ mediate ─┬▶ granted
                                                                                            └▶ upheld

Only the provider's stewards decide, only coordinators confirm and mediate, only the requesting department
disputes. Every step is written to the history table and emitted as an event in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter
from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.exchange.dependencies import sees_everything
from onesource.exchange.grants import service as grants
from onesource.exchange.models import CatalogResource, ShareRequest, ShareRequestTransition
from onesource.exchange.rowscope import unknown_fields
from onesource.exchange.settings import Settings
from onesource.exchange.share_requests import repository
from onesource.exchange.share_requests.errors import (
    DurationTooLong,
    FieldsNotRequested,
    InvalidTransition,
    NotTheConsumer,
    NotTheProvider,
    ReasonRequired,
    ShareRequestNotFound,
    UnknownFields,
)
from onesource.exchange.share_requests.events import EVENTS_BY_ACTION
from onesource.exchange.share_requests.schemas import Decision, Dispute, Mediation, ShareRequestCreate
from onesource.exchange.workdays import WorkingCalendar
from onesource.kit import outbox
from onesource.kit.auth import Principal
from onesource.kit.errors import Forbidden
from onesource.kit.pagination import Slice, paginate

ESCALATIONS = Counter("onesource_exchange_escalations_total", "Share requests escalated for a missed deadline")

_INITIAL_STATUS = {"not_shared": "refused", "unconditional": "granted", "conditional": "pending_provider"}

#: Who the deadline sweep acts as in histories and events.
SWEEPER = "exchange"


def _record(
    session: AsyncSession,
    request: ShareRequest,
    *,
    action: str,
    to_status: str,
    actor: Principal | None,
    note: str | None,
    now: datetime,
    submission: bool = False,
) -> None:
    """Move ``request`` to ``to_status``: history row and event, in the caller's transaction.

    ``actor`` is the caller who moved it, or ``None`` for the deadline sweeper.
    """
    actor_id, actor_department = (actor.client_id, actor.department) if actor is not None else (SWEEPER, SWEEPER)
    from_status = None if submission else request.status
    request.status = to_status
    request.updated_at = now
    session.add(
        ShareRequestTransition(
            share_request_id=request.id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            actor=actor_id,
            actor_department=actor_department,
            note=note,
            at=now,
        )
    )
    outbox.add(
        session,
        EVENTS_BY_ACTION[action](
            id=request.id,
            status=request.status,
            consumer=request.consumer,
            resource=request.resource,
            provider=request.provider,
            fields=list(request.fields),
            approved_fields=list(request.approved_fields) if request.approved_fields is not None else None,
            purpose=request.purpose,
            due_at=request.due_at,
            overdue=request.overdue,
            grant_id=request.grant_id,
            actor=actor_id,
            actor_department=actor_department,
            note=note,
        ),
    )


def _check_fields(resource: CatalogResource, body: ShareRequestCreate) -> None:
    known = set(resource.field_names)
    unknown = [name for name in body.fields if name not in known]
    if unknown:
        raise UnknownFields(
            f"resource {resource.id!r} has no field(s) {', '.join(unknown)}", location="body.fields", fields=unknown
        )
    scope_unknown = unknown_fields(body.row_scope, resource.field_names)
    if scope_unknown:
        raise UnknownFields(
            f"the row scope names field(s) {', '.join(scope_unknown)} that resource {resource.id!r} does not have",
            location="body.row_scope",
            fields=scope_unknown,
        )


async def submit(
    session: AsyncSession,
    principal: Principal,
    body: ShareRequestCreate,
    resource: CatalogResource,
    *,
    settings: Settings,
    calendar: WorkingCalendar,
    now: datetime,
) -> ShareRequest:
    """Submit a request; unconditional → granted, not_shared → refused, conditional → pending_provider."""
    _check_fields(resource, body)
    duration = body.duration_days or settings.default_grant_days
    if duration > settings.max_grant_days:
        raise DurationTooLong(
            f"grants last at most {settings.max_grant_days} days; {duration} were asked",
            invalid_params=[{"name": "body.duration_days", "reason": f"at most {settings.max_grant_days}"}],
        )
    request = ShareRequest(
        consumer=principal.department,
        requested_by=principal.client_id,
        resource=resource.id,
        provider=resource.provider,
        fields=list(body.fields),
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        duration_days=duration,
        row_scope=body.row_scope,
        status=_INITIAL_STATUS[resource.share_type],
        overdue=False,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    await session.flush()
    if resource.share_type == "not_shared":
        request.refusal_reason = resource.legal_basis or "the resource is not shared"
        action, to_status = "refused", "refused"
    elif resource.share_type == "unconditional":
        grant = await grants.issue(session, request, list(body.fields), now)
        request.grant_id = grant.id
        request.approved_fields = list(body.fields)
        action, to_status = "granted", "granted"
    else:
        request.due_at = calendar.deadline(now, settings.decision_working_days)
        action, to_status = "submitted", "pending_provider"
    _record(
        session,
        request,
        action=action,
        to_status=to_status,
        actor=principal,
        note=request.refusal_reason,
        now=now,
        submission=True,
    )
    await session.flush()
    return request


async def _locked(session: AsyncSession, request_id: str) -> ShareRequest:
    request = await repository.get(session, request_id, for_update=True)
    if request is None:
        raise ShareRequestNotFound(f"no share request has id {request_id!r}")
    return request


def _expect(request: ShareRequest, *statuses: str, step: str) -> None:
    if request.status not in statuses:
        raise InvalidTransition(
            f"cannot {step} share request {request.id!r}: it is {request.status}, not {' or '.join(statuses)}",
            status_now=request.status,
        )


def _subset(request: ShareRequest, fields: list[str] | None) -> list[str]:
    if fields is None:
        return list(request.fields)
    extra = [name for name in fields if name not in request.fields]
    if extra:
        raise FieldsNotRequested(f"field(s) {', '.join(extra)} were not requested", fields=extra)
    return list(fields)


async def decide(
    session: AsyncSession, principal: Principal, request_id: str, decision: Decision, now: datetime
) -> ShareRequest:
    """The provider's steward approves (possibly fewer fields) or rejects with a reason."""
    request = await _locked(session, request_id)
    if principal.department != request.provider:
        raise NotTheProvider(
            f"only stewards of {request.provider!r} decide on requests for {request.resource!r}",
            provider=request.provider,
        )
    _expect(request, "pending_provider", step="decide on")
    request.decided_by = principal.client_id
    request.decided_at = now
    request.decision_reason = decision.reason
    if decision.approve:
        request.approved_fields = _subset(request, decision.fields)
        action, to_status = "approved", "pending_confirmation"
    elif not decision.reason:
        raise ReasonRequired("a rejection must give its reason")
    else:
        action, to_status = "rejected", "rejected"
    _record(session, request, action=action, to_status=to_status, actor=principal, note=decision.reason, now=now)
    await session.flush()
    return request


async def confirm(session: AsyncSession, principal: Principal, request_id: str, now: datetime) -> ShareRequest:
    """The coordinator confirms the provider's approval: the grant is issued for the approved fields."""
    request = await _locked(session, request_id)
    _expect(request, "pending_confirmation", step="confirm")
    fields = list(request.approved_fields or request.fields)
    grant = await grants.issue(session, request, fields, now)
    request.grant_id = grant.id
    _record(
        session,
        request,
        action="confirmed",
        to_status="granted",
        actor=principal,
        note=None,
        now=now,
    )
    await session.flush()
    return request


async def dispute(
    session: AsyncSession, principal: Principal, request_id: str, body: Dispute, now: datetime
) -> ShareRequest:
    """The requesting department disputes a rejection; the coordinators mediate."""
    request = await _locked(session, request_id)
    if principal.department != request.consumer:
        raise NotTheConsumer(f"only department {request.consumer!r} may dispute its request")
    _expect(request, "rejected", step="dispute")
    request.dispute_reason = body.reason
    _record(
        session,
        request,
        action="disputed",
        to_status="disputed",
        actor=principal,
        note=body.reason,
        now=now,
    )
    await session.flush()
    return request


async def mediate(
    session: AsyncSession, principal: Principal, request_id: str, body: Mediation, now: datetime
) -> ShareRequest:
    """The coordinator rules on a disputed rejection: grant (possibly fewer fields) or uphold."""
    request = await _locked(session, request_id)
    _expect(request, "disputed", step="mediate")
    if body.grant:
        fields = _subset(request, body.fields)
        request.approved_fields = fields
        grant = await grants.issue(session, request, fields, now)
        request.grant_id = grant.id
        action, to_status = "mediated", "granted"
    else:
        action, to_status = "upheld", "upheld"
    _record(
        session,
        request,
        action=action,
        to_status=to_status,
        actor=principal,
        note=body.reason,
        now=now,
    )
    await session.flush()
    return request


def visibility(principal: Principal) -> ColumnElement[bool] | None:
    """Consumers see their department's requests, stewards those for their resources, coordinators all."""
    if sees_everything(principal):
        return None
    clauses: list[ColumnElement[bool]] = []
    if principal.has_role("consumer"):
        clauses.append(ShareRequest.consumer == principal.department)
    if principal.has_role("steward"):
        clauses.append(ShareRequest.provider == principal.department)
    if not clauses:
        raise Forbidden("requires one of the roles: consumer, steward, coordinator, admin")
    return or_(*clauses)


def _may_see(principal: Principal, request: ShareRequest) -> bool:
    if sees_everything(principal):
        return True
    return (principal.has_role("consumer") and request.consumer == principal.department) or (
        principal.has_role("steward") and request.provider == principal.department
    )


async def get(
    session: AsyncSession, principal: Principal, request_id: str
) -> tuple[ShareRequest, list[ShareRequestTransition]]:
    """The request and its history, if the caller may see it (404 when missing, 403 when another's)."""
    request = await repository.get(session, request_id)
    if request is None:
        raise ShareRequestNotFound(f"no share request has id {request_id!r}")
    if not _may_see(principal, request):
        raise Forbidden(f"department {principal.department!r} may not see share request {request_id!r}")
    return request, list(await repository.history(session, request_id))


async def page(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    overdue: bool | None,
    resource: str | None,
    limit: int,
    cursor: str | None,
) -> Slice[ShareRequest]:
    """One page of the requests the caller may see, in id (submission) order."""
    statement = repository.listed(
        visible=visibility(principal),
        status=status,
        overdue=overdue,
        resource=resource,
    )
    return await paginate(session, statement, order=[ShareRequest.id], limit=limit, cursor=cursor)


async def escalate_overdue(session: AsyncSession, now: datetime) -> list[ShareRequest]:
    """Flag every unanswered request past its deadline as overdue and escalate it, once."""
    escalated: list[ShareRequest] = []
    for request in await repository.past_due(session, now):
        request.overdue = True
        request.escalated_at = now
        _record(
            session,
            request,
            action="escalated",
            to_status=request.status,
            actor=None,
            note=f"no answer by {request.due_at.isoformat() if request.due_at else '?'}; escalated to coordinators",
            now=now,
        )
        escalated.append(request)
    await session.flush()
    ESCALATIONS.inc(len(escalated))
    return escalated
