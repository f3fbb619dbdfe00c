"""Reading a record through the gateway, as the person's department, with a stated purpose (the read is audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from onesource.portal.gateway import ApiProblem, purpose_header, segment
from onesource.portal.web import GatewayDep, SignedIn, checked_form, render, require

router = APIRouter(include_in_schema=False)


def record_path(resource: dict[str, Any], key: str) -> str | None:
    """The gateway path of one record of ``resource`` (its first path with a ``{key}`` placeholder)."""
    for path in resource.get("paths") or []:
        if "{" in path and resource.get("service"):
            start, end = path.index("{"), path.index("}")
            return f"/api/{resource['service']}{path[:start]}{segment(key)}{path[end + 1 :]}"
    return None


@router.get("/records")
async def record_form(request: Request, session: SignedIn, resource: str = "") -> Response:
    """The form to read one record of a resource with a purpose."""
    require(session, "consumer")
    return render(request, "records/read.html", asked={"resource": resource, "key": "", "purpose": ""}, record=None)


@router.post("/records")
async def read_record(request: Request, session: SignedIn, gateway: GatewayDep) -> Response:
    """Read one record (only the granted fields come back).

    A form post with the session's CSRF token, not a link: every read is audited under the person's name with the
    stated purpose, so another site must not be able to make the browser read on the person's behalf.
    """
    require(session, "consumer")
    form = await checked_form(request, session)
    asked = {"resource": form.get("resource"), "key": form.get("key"), "purpose": form.get("purpose")}
    if not all(asked.values()):
        return render(
            request,
            "records/read.html",
            status_code=422,
            asked=asked,
            record=None,
            message="请填写资源、记录键和用途。",
        )
    try:
        found = await gateway.get(session, f"/api/catalog/v1/resources/{segment(asked['resource'])}")
        path = record_path(found, asked["key"])
        if path is None:
            message = "该资源没有按键读取记录的接口。"
            return render(request, "records/read.html", status_code=422, asked=asked, record=None, message=message)
        headers = {"X-OneSource-Purpose": purpose_header(asked["purpose"])}
        answer = await gateway.call(session, "GET", path, headers=headers)
    except ApiProblem as problem:
        return render(request, "records/read.html", problem=problem, asked=asked, record=None)
    return render(request, "records/read.html", asked=asked, record=answer.json())
