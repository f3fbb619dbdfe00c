"""Administration: departments, client systems and people (new secrets and passwords are shown once)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from onesource.portal.gateway import ApiProblem, Gateway, segment
from onesource.portal.sessions import Session
from onesource.portal.web import GatewayDep, SignedIn, checked_form, redirect, render, require

router = APIRouter(include_in_schema=False)

IDENTITY = "/api/identity/v1"
KINDS = {"clients": "client_id", "people": "username"}


async def _departments(request: Request, session: Session, gateway: Gateway, **extra: Any) -> Response:
    page = await gateway.get(session, f"{IDENTITY}/departments", limit=200)
    return render(request, "admin/departments.html", departments=page["items"], created={}, **extra)


@router.get("/admin/departments")
async def list_departments(request: Request, session: SignedIn, gateway: GatewayDep) -> Response:
    """Departments, and the form to register one."""
    require(session, "admin")
    return await _departments(request, session, gateway)


@router.post("/admin/departments")
async def register_department(request: Request, session: SignedIn, gateway: GatewayDep) -> Response:
    """Register a department (code, name, USCC)."""
    require(session, "admin")
    form = await checked_form(request, session)
    body = {"code": form.get("code"), "name": form.get("name"), "uscc": form.get("uscc").upper()}
    try:
        await gateway.post(session, f"{IDENTITY}/departments", body)
    except ApiProblem as problem:
        return await _departments(request, session, gateway, problem=problem, form=body)
    return redirect("/admin/departments", f"部门 {body['code']} 已登记。")


async def _parties(request: Request, session: Session, gateway: Gateway, kind: str, **extra: Any) -> Response:
    page = await gateway.get(session, f"{IDENTITY}/{kind}", limit=200)
    departments = await gateway.get(session, f"{IDENTITY}/departments", limit=200)
    context = {"items": page["items"], "kind": kind, "departments": departments["items"], "form": {}, "shown": None}
    return render(request, "admin/parties.html", **(context | extra))


@router.get("/admin/{kind}")
async def list_parties(request: Request, kind: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """Client systems or people, and the form to add one."""
    require(session, "admin")
    if kind not in KINDS:
        return render(request, "error.html", status_code=404, title="未找到", message="没有这个页面。")
    return await _parties(request, session, gateway, kind)


@router.post("/admin/{kind}")
async def register_party(request: Request, kind: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """Add a client system or a person; the new secret or password is shown on this answer only."""
    require(session, "admin")
    if kind not in KINDS:
        return render(request, "error.html", status_code=404, title="未找到", message="没有这个页面。")
    form = await checked_form(request, session)
    body: dict[str, Any] = {"department": form.get("department"), "name": form.get("name"), "roles": form.all("roles")}
    identifier = form.get(KINDS[kind])
    if identifier or kind == "people":
        body[KINDS[kind]] = identifier
    try:
        created = await gateway.post(session, f"{IDENTITY}/{kind}", body)
    except ApiProblem as problem:
        return await _parties(request, session, gateway, kind, problem=problem, form=body)
    return await _parties(request, session, gateway, kind, shown=created, status_code=201)


@router.post("/admin/{kind}/{identifier}/{action}")
async def change_party(
    request: Request, kind: str, identifier: str, action: str, session: SignedIn, gateway: GatewayDep
) -> Response:
    """Disable, enable, or give a new secret (clients) or password (people), shown once."""
    require(session, "admin")
    await checked_form(request, session)
    paths = {"disable": "disable", "enable": "enable", "secret": "secret", "password": "password"}
    if kind not in KINDS or action not in paths:
        return render(request, "error.html", status_code=404, title="未找到", message="没有这个操作。")
    try:
        changed = await gateway.post(session, f"{IDENTITY}/{kind}/{segment(identifier)}/{paths[action]}")
    except ApiProblem as problem:
        return await _parties(request, session, gateway, kind, problem=problem)
    if action in ("secret", "password"):
        return await _parties(request, session, gateway, kind, shown=changed)
    return redirect(f"/admin/{kind}", "已停用。" if action == "disable" else "已启用。")
