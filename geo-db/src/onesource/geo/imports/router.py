"""Bulk registration endpoints: ``/v1/imports`` (the owner's, not shared through the gateway)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from onesource.geo.dependencies import TodayDep
from onesource.geo.imports import service
from onesource.geo.imports.schemas import FeatureImport, FeatureImportCreate
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.pagination import Cursor, Limit, Page
from onesource.registry.access import OwnerDep, RegistrarDep

router = APIRouter(prefix="/v1/imports", tags=["imports"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(401, 403, 422))
async def import_features(
    body: FeatureImportCreate,
    session: SessionDep,
    registrar: RegistrarDep,
    today: TodayDep,
    collection: Annotated[service.Collection, Query(description="``addresses`` or ``parcels``.")],
) -> FeatureImport:
    """Register a FeatureCollection of addresses or parcels in one transaction: all of them, or none (422)."""
    return FeatureImport.model_validate(await service.register(session, collection, body, registrar, today))


@router.get("", responses=problem_responses(401, 403, 422))
async def list_imports(
    session: SessionDep, owner: OwnerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[FeatureImport]:
    """The bulk registrations made, oldest first."""
    return Page[FeatureImport].model_validate(
        await service.search(session, limit=limit, cursor=cursor), from_attributes=True
    )
