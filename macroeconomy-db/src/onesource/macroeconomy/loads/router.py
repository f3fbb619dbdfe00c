"""Loads: ``POST /v1/dataflows/{flow}/loads`` (reached through the gateway as ``/api/macroeconomy/v1/…``)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, status

from onesource.kit.db import SessionDep
from onesource.kit.errors import ContentTooLarge, UnsupportedMediaType, problem_responses
from onesource.kit.idempotency import idempotent
from onesource.macroeconomy.dataflows.dependencies import FlowDep
from onesource.macroeconomy.dependencies import NowDep, SettingsDep
from onesource.macroeconomy.loads import service
from onesource.macroeconomy.releases.schemas import Release
from onesource.macroeconomy.releases.service import release_of
from onesource.registry.access import RegistrarDep
from onesource.registry.shapes.sdmx import CSV_MEDIA_TYPE, JSON_MEDIA_TYPE

router = APIRouter(prefix="/v1/dataflows", tags=["loads"])

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            CSV_MEDIA_TYPE: {"schema": {"type": "string"}, "example": "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,..."},
            "text/csv": {"schema": {"type": "string"}},
            JSON_MEDIA_TYPE: {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


@router.post(
    "/{flow}/loads",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 413, 415, 422),
    openapi_extra=_BODY,
)
@idempotent(location=lambda release: f"/v1/releases?flow={release['flow']}")
async def load_observations(
    request: Request,
    flow: FlowDep,
    session: SessionDep,
    registrar: RegistrarDep,
    settings: SettingsDep,
    now: NowDep,
    content_type: Annotated[str, Header(alias="Content-Type")] = "",
    release_at: Annotated[
        datetime | None,
        Query(description="Embargo: the observations reach only pre-release readers until then (ISO 8601)."),
    ] = None,
) -> Release:
    """Load an SDMX-CSV 2.0 (or SDMX-JSON 2.0) data message as a new vintage; every row checked, or nothing loaded."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > settings.max_load_bytes:
        raise ContentTooLarge(f"a load is at most {settings.max_load_bytes} bytes")
    body = await request.body()
    if len(body) > settings.max_load_bytes:
        raise ContentTooLarge(f"a load is at most {settings.max_load_bytes} bytes")
    media = content_type.split(";")[0].strip().lower()
    if media in {"text/csv", "application/vnd.sdmx.data+csv"}:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnsupportedMediaType("SDMX-CSV loads are UTF-8") from None
        vintage = await service.load_csv(session, flow, text, release_at=release_at, by=registrar)
    elif media in {"application/json", "application/vnd.sdmx.data+json"}:
        checked = await asyncio.to_thread(service.check_json, body, flow)
        vintage = await service.load(session, flow, checked, format="sdmx-json", release_at=release_at, by=registrar)
    else:
        raise UnsupportedMediaType(f"send {CSV_MEDIA_TYPE} (or text/csv) or {JSON_MEDIA_TYPE}")
    return release_of(vintage, now)
