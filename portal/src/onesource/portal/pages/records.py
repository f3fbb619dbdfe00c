"""Reading a record through the gateway, as the person's department, with a stated purpose (the read is audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from onesource.portal.gateway import ApiProblem, purpose_header, segment
from onesource.portal.web import GatewayDep, SignedIn, render, require

router = APIRouter(include_in_schema=False)


def record_path(resource: dict[str, Any], key: str) -> str | None:
    """The gateway path of one record of ``resource`` (its first path with a ``{key}`` placeholder)."""
    for path in resource.get("paths") or []:
        if "{" in path and resource.get("service"):
            start, end = path.index("{"), path.index("}")
            return f"/api/{resource['service']}{path[:start]}{segment(key)}{path[end + 1 :]}"
    return None


@router.get("/records")
async def read_record(
    request: Request, session: SignedIn, gateway: GatewayDep, resource: str = "", key: str = "", purpose: str = ""
) -> Response:
    """Read one record (only the granted fields come back); the form when nothing is asked yet."""
    require(session, "consumer")
    asked = {"resource": resource, "key": key, "purpose": purpose}
    if not (resource and key and purpose):
        return render(request, "records/read.html", asked=asked, record=None)
    try:
        found = await gateway.get(session, f"/api/catalog/v1/resources/{segment(resource)}")
        path = record_path(found, key)
        if path is None:
            return render(
                request, "records/read.html", asked=asked, record=None, message="该资源没有按键读取记录的接口。"
            )
        answer = await gateway.call(session, "GET", path, headers={"X-OneSource-Purpose": purpose_header(purpose)})
    except ApiProblem as problem:
        return render(request, "records/read.html", problem=problem, asked=asked, record=None)
    return render(request, "records/read.html", asked=asked, record=answer.json())
