"""Grants: the consumer's and the provider's, and revoking one."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from onesource.portal.gateway import ApiProblem, segment
from onesource.portal.web import GatewayDep, SignedIn, checked_form, redirect, render, require

router = APIRouter(include_in_schema=False)

GRANTS = "/api/exchange/v1/grants"


@router.get("/grants")
async def list_grants(
    request: Request, session: SignedIn, gateway: GatewayDep, status: str = "active", resource: str = ""
) -> Response:
    """Grants the person may see: those held by their department, and those on its resources."""
    require(session, "consumer", "steward", "coordinator", "admin")
    page = await gateway.get(session, GRANTS, status=status, resource=resource, limit=200)
    held = [grant for grant in page["items"] if grant["department"] == session.department]
    given = [grant for grant in page["items"] if grant["provider"] == session.department]
    others = [grant for grant in page["items"] if grant not in held and grant not in given]
    return render(request, "grants/list.html", held=held, given=given, others=others, status=status, resource=resource)


@router.post("/grants/{grant_id}/revoke")
async def revoke_grant(request: Request, grant_id: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """Revoke a grant with a reason (the provider's steward or a coordinator)."""
    require(session, "steward", "coordinator", "admin")
    form = await checked_form(request, session)
    try:
        await gateway.post(session, f"{GRANTS}/{segment(grant_id)}/revoke", {"reason": form.get("reason")})
    except ApiProblem as problem:
        page = await gateway.get(session, GRANTS, status="active", limit=200)
        held = [grant for grant in page["items"] if grant["department"] == session.department]
        given = [grant for grant in page["items"] if grant["provider"] == session.department]
        return render(
            request, "grants/list.html", problem=problem, held=held, given=given, others=[], status="active",
            resource="", revoking=grant_id,
        )  # fmt: skip
    return redirect("/grants", "授权已撤回。")
