"""Audit: "who read this record" for an owner's steward, the chain's verification and checkpoints for admins."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from onesource.portal.gateway import ApiProblem, segment
from onesource.portal.web import GatewayDep, SignedIn, render, require

router = APIRouter(include_in_schema=False)

AUDIT = "/api/audit/v1"


@router.get("/audit/records")
async def who_read(
    request: Request, session: SignedIn, gateway: GatewayDep, resource: str = "", key: str = "", cursor: str = ""
) -> Response:
    """Every access to one record: time, department, client or person, purpose and fields."""
    require(session, "steward", "admin")
    asked = {"resource": resource, "key": key}
    if not (resource and key):
        return render(request, "audit/records.html", asked=asked, page=None)
    try:
        page = await gateway.get(
            session, f"{AUDIT}/records/{segment(resource)}/{segment(key)}", cursor=cursor, limit=100
        )
    except ApiProblem as problem:
        return render(request, "audit/records.html", problem=problem, asked=asked, page=None)
    return render(request, "audit/records.html", asked=asked, page=page)


@router.get("/audit")
async def chain_status(request: Request, session: SignedIn, gateway: GatewayDep) -> Response:
    """Whether the audit chain is intact, and its latest signed checkpoints."""
    require(session, "admin")
    verification = await gateway.get(session, f"{AUDIT}/verify")
    checkpoints = await gateway.get(session, f"{AUDIT}/checkpoints", limit=20)
    return render(request, "audit/chain.html", verification=verification, checkpoints=checkpoints)
