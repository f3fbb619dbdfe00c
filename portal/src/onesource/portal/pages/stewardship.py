"""A steward's resources: register (a form with field rows), edit, publish, retire."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from onesource.portal.gateway import ApiProblem, Gateway, segment
from onesource.portal.sessions import Session
from onesource.portal.web import Form, GatewayDep, SignedIn, checked_form, redirect, render, require

router = APIRouter(include_in_schema=False)

CATALOG = "/api/catalog/v1"
#: Blank field rows a new form offers (more with ``?rows=``); rows left empty are ignored.
FIELD_ROWS = 6
MAX_FIELD_ROWS = 60
FIELD_KEYS = ("name", "element", "data_type", "length", "description", "source_element")


@router.get("/stewardship")
async def list_own_resources(request: Request, session: SignedIn, gateway: GatewayDep, status: str = "") -> Response:
    """The resources of the steward's department, in every status."""
    require(session, "steward")
    statuses = [status] if status else ["draft", "published", "retired"]
    found: list[dict[str, Any]] = []
    for wanted in statuses:
        page = await gateway.get(session, f"{CATALOG}/resources", provider=session.department, status=wanted, limit=200)
        found.extend(page["items"])
    return render(request, "stewardship/list.html", resources=found, status=status)


def _blank(rows: int) -> dict[str, Any]:
    return {"fields": [dict.fromkeys(FIELD_KEYS, "") | {"authoritative": False} for _ in range(rows)]}


@router.get("/stewardship/new")
async def new_resource(request: Request, session: SignedIn, rows: int = FIELD_ROWS) -> Response:
    """The registration form."""
    require(session, "steward")
    rows = max(1, min(rows, MAX_FIELD_ROWS))
    draft = {"provider": session.department, "share_type": "conditional", "category": "department", **_blank(rows)}
    return render(request, "stewardship/form.html", resource=draft, editing=False)


def field_rows(form: Form) -> list[dict[str, Any]]:
    """The field rows of a resource form, in order, without the empty ones."""
    rows: list[dict[str, Any]] = []
    for index in range(MAX_FIELD_ROWS):
        name = form.get(f"fields.{index}.name")
        if not name and not form.get(f"fields.{index}.element"):
            continue
        length = form.get(f"fields.{index}.length")
        source = form.get(f"fields.{index}.source_element")
        row: dict[str, Any] = {
            "name": name,
            "element": form.get(f"fields.{index}.element"),
            "data_type": form.get(f"fields.{index}.data_type", "C"),
            "length": int(length) if length.isdigit() else (length or None),
            "description": form.get(f"fields.{index}.description"),
            "authoritative": form.flag(f"fields.{index}.authoritative"),
            "source_element": source or None,
        }
        rows.append(row)
    return rows


def resource_body(form: Form, *, creating: bool) -> dict[str, Any]:
    """The catalog body of a resource form (``ResourceCreate`` or ``ResourceUpdate``)."""
    body: dict[str, Any] = {
        "name": form.get("name"),
        "summary": form.get("summary"),
        "format": form.get("format", "api/json"),
        "update_cycle": form.get("update_cycle", "realtime"),
        "share_type": form.get("share_type"),
        "share_condition": form.get("share_condition") or None,
        "legal_basis": form.get("legal_basis") or None,
        "service": form.get("service") or None,
        "paths": form.all("paths") or [line for line in form.get("paths_text").splitlines() if line.strip()],
        "key": form.get("key") or None,
        "fields": field_rows(form),
    }
    if creating:
        body |= {"id": form.get("id"), "provider": form.get("provider"), "category": form.get("category")}
    return body


def _rows_for_display(body: dict[str, Any], blank_rows: int = 2) -> dict[str, Any]:
    shown = dict(body)
    shown["paths_text"] = "\n".join(body.get("paths") or [])
    fields = list(body.get("fields") or [])[:MAX_FIELD_ROWS]
    blank_rows = max(0, min(blank_rows, MAX_FIELD_ROWS - len(fields)))
    fields += [dict.fromkeys(FIELD_KEYS, "") | {"authoritative": False} for _ in range(blank_rows)]
    shown["fields"] = fields
    return shown


@router.post("/stewardship/new")
async def register_resource(request: Request, session: SignedIn, gateway: GatewayDep) -> Response:
    """Register a draft resource; a refusal is shown next to the fields it names."""
    require(session, "steward")
    form = await checked_form(request, session)
    body = resource_body(form, creating=True)
    if form.get("more_rows"):  # the form again with what was typed and more blank rows (no script needed)
        return render(request, "stewardship/form.html", resource=_rows_for_display(body, FIELD_ROWS), editing=False)
    try:
        created = await gateway.post(session, f"{CATALOG}/resources", body)
    except ApiProblem as problem:
        return render(
            request, "stewardship/form.html", problem=problem, resource=_rows_for_display(body), editing=False
        )
    return redirect(f"/catalog/{segment(created['id'])}", "资源已登记（草稿）。")


@router.get("/stewardship/{resource_id}/edit")
async def edit_resource(request: Request, resource_id: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """The edit form of a resource."""
    require(session, "steward")
    resource = await gateway.get(session, f"{CATALOG}/resources/{segment(resource_id)}")
    return render(request, "stewardship/form.html", resource=_rows_for_display(resource), editing=True)


@router.post("/stewardship/{resource_id}/edit")
async def update_resource(request: Request, resource_id: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """Save changes (``If-Match`` with the version the form was opened at: a concurrent change is 412)."""
    require(session, "steward")
    form = await checked_form(request, session)
    body = resource_body(form, creating=False)
    if form.get("more_rows"):
        shown = _rows_for_display(body, FIELD_ROWS) | {"id": resource_id, "version": form.get("version")}
        return render(request, "stewardship/form.html", resource=shown, editing=True)
    path = f"{CATALOG}/resources/{segment(resource_id)}"
    try:
        await gateway.call(
            session,
            "PATCH",
            path,
            json=body,
            headers={"If-Match": f'"{form.get("version")}"'},
        )
    except ApiProblem as problem:
        shown = _rows_for_display(body) | {"id": resource_id, "version": form.get("version")}
        return render(request, "stewardship/form.html", problem=problem, resource=shown, editing=True)
    return redirect(f"/catalog/{segment(resource_id)}", "修改已保存。")


async def _transition(request: Request, resource_id: str, session: Session, gateway: Gateway, action: str) -> Response:
    require(session, "steward")
    await checked_form(request, session)
    path = f"{CATALOG}/resources/{segment(resource_id)}"
    try:
        await gateway.post(session, f"{path}/{action}")
    except ApiProblem as problem:
        resource = await gateway.get(session, path)
        return render(request, "catalog/resource.html", problem=problem, resource=resource, asked={})
    return redirect(f"/catalog/{segment(resource_id)}", "资源已发布。" if action == "publish" else "资源已撤销。")


@router.post("/stewardship/{resource_id}/publish")
async def publish_resource(request: Request, resource_id: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """Publish a draft; a second authoritative claim is refused (409) and shown with the existing owner."""
    return await _transition(request, resource_id, session, gateway, "publish")


@router.post("/stewardship/{resource_id}/retire")
async def retire_resource(request: Request, resource_id: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """Retire a published resource."""
    return await _transition(request, resource_id, session, gateway, "retire")
