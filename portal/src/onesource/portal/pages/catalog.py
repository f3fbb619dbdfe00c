"""The catalog: search with facets, a resource with its fields and terms, who owns a datum, re-collection."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from onesource.portal.gateway import ApiProblem, segment
from onesource.portal.web import GatewayDep, SignedIn, render

router = APIRouter(include_in_schema=False)

CATALOG = "/api/catalog/v1"


@router.get("/catalog")
async def search_catalog(
    request: Request,
    session: SignedIn,
    gateway: GatewayDep,
    q: str = "",
    provider: str = "",
    category: str = "",
    share_type: str = "",
    status: str = "",
    cursor: str = "",
) -> Response:
    """Search the directory (Chinese or English) and narrow it by provider, category, share type and status."""
    chosen = {"q": q, "provider": provider, "category": category, "share_type": share_type, "status": status}
    try:
        page = await gateway.get(session, f"{CATALOG}/resources", **chosen, cursor=cursor, limit=20)
    except ApiProblem as problem:
        return render(request, "catalog/search.html", problem=problem, chosen=chosen, page=None)
    return render(request, "catalog/search.html", chosen=chosen, page=page)


@router.get("/catalog/elements/{element}")
async def show_element(request: Request, element: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """Who owns this datum: the authoritative source of a data element."""
    owner = await gateway.get(session, f"{CATALOG}/elements/{segment(element)}")
    return render(request, "catalog/element.html", owner=owner)


@router.get("/catalog/reports/re-collection")
async def show_recollection(request: Request, session: SignedIn, gateway: GatewayDep, department: str = "") -> Response:
    """避免重复采集: fields that copy a datum another department owns, and whether it could be shared instead."""
    report = await gateway.get(session, f"{CATALOG}/reports/re-collection", department=department)
    return render(request, "catalog/recollection.html", report=report, department=department)


@router.get("/catalog/{resource_id}")
async def show_resource(request: Request, resource_id: str, session: SignedIn, gateway: GatewayDep) -> Response:
    """A resource: fields with their elements and authoritative sources, share terms, owner; the ask form."""
    resource = await gateway.get(session, f"{CATALOG}/resources/{segment(resource_id)}")
    return render(request, "catalog/resource.html", resource=resource, asked={})
