"""Share requests: a consumer asks from a resource page; the provider's inbox by due date; the coordinator's work."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from onesource.portal.gateway import ApiProblem, Gateway, segment
from onesource.portal.sessions import Session
from onesource.portal.web import (
    GatewayDep,
    SignedIn,
    checked_form,
    china_date,
    parse_time,
    redirect,
    render,
    require,
    today,
    working_days_until,
)

router = APIRouter(include_in_schema=False)

REQUESTS = "/api/exchange/v1/share-requests"
#: What each role's list starts with: a provider's open work, a coordinator's confirmations and disputes.
OPEN_FOR = {"steward": ["pending_provider"], "coordinator": ["pending_confirmation", "disputed"]}


def with_deadline(request: dict[str, Any]) -> dict[str, Any]:
    """The request with the working days left to its due date (negative: overdue)."""
    due = parse_time(request.get("due_at"))
    left = working_days_until(china_date(due), today()) if due else None
    return {**request, "days_left": left}


def by_due_date(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Soonest due first; requests without a due date last."""
    return sorted(requests, key=lambda item: (item.get("due_at") is None, item.get("due_at") or "", item["id"]))


@router.get("/requests")
async def list_requests(
    request: Request, session: SignedIn, gateway: GatewayDep, status: str = "", view: str = ""
) -> Response:
    """The share requests the person may see: the provider's inbox, the coordinator's queue, the consumer's own."""
    require(session, "consumer", "steward", "coordinator")
    role = view or next(role for role in ("steward", "coordinator", "consumer") if session.has_role(role))
    wanted = [status] if status else OPEN_FOR.get(role, [""])
    found: list[dict[str, Any]] = []
    for one in wanted:
        page = await gateway.get(session, REQUESTS, status=one, limit=200)
        found.extend(page["items"])
    if role == "steward":
        found = [item for item in found if item["provider"] == session.department]
    elif role == "consumer":
        found = [item for item in found if item["consumer"] == session.department]
    listed = [with_deadline(item) for item in by_due_date(found)]
    return render(request, "requests/list.html", requests=listed, role=role, status=status)


@router.post("/catalog/{resource_id}/ask")
async def ask_for_share(request: Request, resource_id: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """A consumer asks for fields of a resource with a purpose (and a legal basis)."""
    require(session, "consumer")
    form = await checked_form(request, session)
    body: dict[str, Any] = {
        "resource": resource_id,
        "fields": form.all("fields"),
        "purpose": form.get("purpose"),
        "legal_basis": form.get("legal_basis") or None,
    }
    try:
        asked = await gateway.post(session, REQUESTS, body)
    except ApiProblem as problem:
        resource = await gateway.get(session, f"/api/catalog/v1/resources/{segment(resource_id)}")
        return render(request, "catalog/resource.html", problem=problem, resource=resource, asked=body)
    return redirect(f"/requests/{segment(asked['id'])}", "共享申请已提交。")


@router.get("/requests/{request_id}")
async def show_request(request: Request, request_id: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """One request with its history and the actions the person may take on it."""
    found = await gateway.get(session, f"{REQUESTS}/{segment(request_id)}")
    return render(request, "requests/detail.html", request_=with_deadline(found), form={})


async def _act(
    request: Request,
    request_id: str,
    session: Session,
    gateway: Gateway,
    action: str,
    body: dict[str, Any] | None,
    done: str,
) -> Response:
    path = f"{REQUESTS}/{segment(request_id)}"
    try:
        await gateway.post(session, f"{path}/{action}", body)
    except ApiProblem as problem:
        found = await gateway.get(session, path)
        return render(request, "requests/detail.html", problem=problem, request_=with_deadline(found), form=body or {})
    return redirect(f"/requests/{segment(request_id)}", done)


@router.post("/requests/{request_id}/decision")
async def decide_request(request: Request, request_id: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """The provider's steward approves (the ticked fields, possibly fewer) or rejects with a reason."""
    require(session, "steward")
    form = await checked_form(request, session)
    approve = form.get("approve") == "true"
    body: dict[str, Any] = {"approve": approve, "reason": form.get("reason") or None}
    if approve:
        body["fields"] = form.all("fields")
    return await _act(
        request, request_id, session, gateway, "decision", body, "已同意，待协调确认。" if approve else "已驳回。"
    )


@router.post("/requests/{request_id}/confirm")
async def confirm_request(request: Request, request_id: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """The coordinator confirms the provider's approval: the grant is issued."""
    require(session, "coordinator")
    await checked_form(request, session)
    return await _act(request, request_id, session, gateway, "confirm", None, "已确认，授权已生效。")


@router.post("/requests/{request_id}/dispute")
async def dispute_request(request: Request, request_id: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """The consumer disputes a rejection, for the coordinator to mediate."""
    require(session, "consumer")
    form = await checked_form(request, session)
    return await _act(request, request_id, session, gateway, "dispute", {"reason": form.get("reason")}, "异议已提交。")


@router.post("/requests/{request_id}/mediate")
async def mediate_request(request: Request, request_id: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """The coordinator rules on a dispute: grant (possibly fewer fields) or uphold the rejection."""
    require(session, "coordinator")
    form = await checked_form(request, session)
    grant = form.get("grant") == "true"
    body: dict[str, Any] = {"grant": grant, "reason": form.get("reason")}
    if grant and form.all("fields"):
        body["fields"] = form.all("fields")
    return await _act(request, request_id, session, gateway, "mediate", body, "协调结果已记录。")
