"""Export endpoints: ``/v1/exports`` — the published directory as DCAT-AP 3 and as the core-metadata form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from onesource.catalog.dependencies import SettingsDep
from onesource.catalog.exports import service
from onesource.catalog.exports.schemas import DirectoryPage
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.pagination import Cursor, Limit

router = APIRouter(prefix="/v1/exports", tags=["exports"])


class JsonLdResponse(JSONResponse):
    """JSON-LD (``application/ld+json``)."""

    media_type = "application/ld+json"


@router.get(
    "/dcat",
    response_class=JsonLdResponse,
    responses={
        200: {"description": "DCAT-AP 3 JSON-LD", "content": {"application/ld+json": {}}},
        **problem_responses(401),
    },
)
async def export_dcat(session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep) -> dict[str, Any]:
    """The published directory as DCAT-AP 3 JSON-LD (Catalog, Datasets, Distributions, DataServices)."""
    return await service.dcat(session, settings.public_base_url)


@router.get("/directory", responses=problem_responses(401, 422))
async def export_directory(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> DirectoryPage:
    """The published directory in its core-metadata form (信息资源名称, 信息资源代码, 共享属性 …)."""
    found = await service.directory(session, limit=limit, cursor=cursor)
    return DirectoryPage(items=found.items, next_cursor=found.next_cursor)
