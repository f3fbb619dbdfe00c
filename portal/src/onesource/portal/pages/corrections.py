"""Corrections (校核): a consumer reports a suspect datum to its owner; the owner's steward resolves or dismisses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from onesource.portal.gateway import ApiProblem, Gateway, segment
from onesource.portal.sessions import Session
from onesource.portal.web import GatewayDep, SignedIn, checked_form, redirect, render, require

router = APIRouter(include_in_schema=False)

CORRECTIONS = "/api/exchange/v1/corrections"


async def _page(request: Request, session: Session, gateway: Gateway, status: str, **extra: Any) -> Response:
    page = await gateway.get(session, CORRECTIONS, status=status, limit=200)
    reported = [item for item in page["items"] if item["reporter_department"] == session.department]
    received = [item for item in page["items"] if item["provider"] == session.department]
    context = {"reported": reported, "received": received, "status": status, "report": {}} | extra
    return render(request, "corrections/list.html", **context)


@router.get("/corrections")
async def list_corrections(
    request: Request, session: SignedIn, gateway: GatewayDep, status: str = "open", resource: str = "", key: str = ""
) -> Response:
    """Corrections reported by the department and those about its data."""
    require(session, "consumer", "steward")
    return await _page(request, session, gateway, status, report={"resource": resource, "record_key": key})


@router.post("/corrections")
async def report_correction(request: Request, session: SignedIn, gateway: GatewayDep) -> Response:
    """Report a suspect value of one field of one record to the resource's owner."""
    require(session, "consumer")
    form = await checked_form(request, session)
    body: dict[str, Any] = {
        "resource": form.get("resource"),
        "record_key": form.get("record_key"),
        "field": form.get("field"),
        "note": form.get("note"),
    }
    if form.get("suggested_value"):
        body["suggested_value"] = form.get("suggested_value")
    try:
        await gateway.post(session, CORRECTIONS, body)
    except ApiProblem as problem:
        return await _page(request, session, gateway, "open", problem=problem, report=body)
    return redirect("/corrections", "校核已提交，等待数据提供方处理。")


@router.post("/corrections/{correction_id}/{answer}")
async def answer_correction(
    request: Request, correction_id: str, answer: str, session: SignedIn, gateway: GatewayDep
) -> Response:
    """The owner's steward resolves (the datum was corrected) or dismisses a correction, with a note."""
    require(session, "steward")
    form = await checked_form(request, session)
    if answer not in ("resolve", "dismiss"):
        return render(request, "error.html", status_code=404, title="未找到", message="没有这个操作。")
    try:
        await gateway.post(session, f"{CORRECTIONS}/{segment(correction_id)}/{answer}", {"note": form.get("note")})
    except ApiProblem as problem:
        return await _page(request, session, gateway, "open", problem=problem, answering=correction_id)
    return redirect("/corrections", "已处理。")
