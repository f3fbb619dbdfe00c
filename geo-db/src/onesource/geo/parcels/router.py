"""Parcel endpoints: ``/v1/parcels`` (through the gateway ``/api/geo/v1/parcels``), GeoJSON in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from onesource.geo.dependencies import TodayDep
from onesource.geo.geojson import (
    GEOJSON_MEDIA_TYPE,
    Crs,
    CrsQuery,
    GeoJSONResponse,
    box,
    collection,
    feature_version,
    position,
)
from onesource.geo.models import Parcel as ParcelRow
from onesource.geo.parcels import service
from onesource.geo.parcels.schemas import (
    ParcelCollection,
    ParcelCreate,
    ParcelFeature,
    ParcelUpdate,
    ParcelVersion,
    Retirement,
    parcel_document,
    parcel_feature,
)
from onesource.kit.concurrency import IfMatch, expected_version, set_etag
from onesource.kit.db import ReadDep, SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.idempotency import idempotent
from onesource.kit.pagination import Cursor, Limit, Page
from onesource.registry.access import OwnerDep, ReaderDep, RegistrarDep

router = APIRouter(prefix="/v1/parcels", tags=["parcels"])

CodePath = Annotated[str, Path(min_length=1, max_length=32, description="宗地代码 (GB/T 37346-2019).")]


async def _parcel_by_code(code: CodePath, session: SessionDep, reader: ReaderDep) -> ParcelRow:
    return await service.get(session, code)


ParcelByCode = Annotated[ParcelRow, Depends(_parcel_by_code)]
"""The parcel named in the path, or 404 (checked after the caller may read parcels at all)."""


def _answer(parcel: ParcelRow, response: Response, crs: Crs = "cgcs2000") -> ParcelFeature:
    set_etag(response, parcel.version)
    return parcel_feature(parcel, crs)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ParcelFeature,
    response_class=GeoJSONResponse,
    responses=problem_responses(401, 403, 409, 422),
)
@idempotent(location=lambda parcel: f"/v1/parcels/{parcel['id']}", version_of=feature_version)
async def register_parcel(
    body: ParcelCreate, session: SessionDep, registrar: RegistrarDep, today: TodayDep
) -> ParcelFeature:
    """Register a parcel (registrar of the owning department): a GeoJSON Feature; its area is computed.

    The answer's ``properties.version`` is its version (1); reads answer it as ``ETag``.
    """
    return parcel_feature(await service.register(session, body, registrar, today))


@router.get(
    "",
    response_class=GeoJSONResponse,
    responses={
        200: {"model": ParcelCollection, "content": {GEOJSON_MEDIA_TYPE: {}}, "description": "A page of parcels"},
        **problem_responses(401, 403, 422),
    },
)
async def search_parcels(
    connection: ReadDep,
    reader: ReaderDep,
    contains: Annotated[
        str | None, Query(description="``<lon>,<lat>``: only the parcels covering this point (CGCS2000).")
    ] = None,
    bbox: Annotated[
        str | None, Query(description="``<minlon>,<minlat>,<maxlon>,<maxlat>``: only parcels meeting this box.")
    ] = None,
    division_code: Annotated[
        str | None, Query(pattern=r"^\d{2}(\d{2}){0,2}$", description="The county's division code starts with this.")
    ] = None,
    land_use: Annotated[
        str | None, Query(pattern=r"^\d{2}(\d{2})?$", description="GB/T 21010-2017 class (2 or 4 digits).")
    ] = None,
    include_retired: Annotated[bool, Query(description="Also retired parcels.")] = False,
    crs: CrsQuery = "cgcs2000",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> GeoJSONResponse:
    """Parcels covering a point, meeting a box, in a division or of a land use: a FeatureCollection page."""
    found = await service.search(
        connection,
        contains=position("contains", contains),
        bbox=box("bbox", bbox),
        division=division_code,
        land_use=land_use,
        include_retired=include_retired,
        limit=limit,
        cursor=cursor,
    )
    features = [parcel_document(dict(parcel), crs) for parcel in found.items]
    return GeoJSONResponse(collection(features, found.next_cursor))


@router.get("/{code}", response_class=GeoJSONResponse, responses=problem_responses(401, 403, 404, 422))
async def get_parcel(parcel: ParcelByCode, response: Response, crs: CrsQuery = "cgcs2000") -> ParcelFeature:
    """One parcel as a GeoJSON Feature, with its version as ``ETag``."""
    return _answer(parcel, response, crs)


@router.patch(
    "/{code}", response_class=GeoJSONResponse, responses=problem_responses(400, 401, 403, 404, 409, 412, 422, 428)
)
async def update_parcel(
    code: CodePath,
    body: ParcelUpdate,
    session: SessionDep,
    registrar: RegistrarDep,
    today: TodayDep,
    response: Response,
    if_match: IfMatch = None,
) -> ParcelFeature:
    """Change a parcel (JSON merge patch of its Feature: ``geometry``, ``properties``); ``If-Match`` required."""
    parcel = await service.update(
        session, code, body, expected_version=expected_version(if_match), principal=registrar, today=today
    )
    return _answer(parcel, response)


@router.post(
    "/{code}/retirement",
    response_class=GeoJSONResponse,
    responses=problem_responses(400, 401, 403, 404, 409, 412, 422),
)
async def retire_parcel(
    code: CodePath,
    body: Retirement,
    session: SessionDep,
    registrar: RegistrarDep,
    today: TodayDep,
    response: Response,
    if_match: IfMatch = None,
) -> ParcelFeature:
    """Retire a parcel (注销); ``If-Match`` is honoured when sent."""
    expected = expected_version(if_match) if if_match is not None else None
    parcel = await service.retire(
        session, code, body.retired_on, body.reason, expected_version=expected, principal=registrar, today=today
    )
    return _answer(parcel, response)


@router.get("/{code}/history", responses=problem_responses(401, 403, 404, 422))
async def parcel_history(
    code: CodePath, session: SessionDep, owner: OwnerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[ParcelVersion]:
    """Every version of a parcel, oldest first: what changed, who changed it, when, and the record as it was."""
    found = await service.history(session, code, limit=limit, cursor=cursor)
    return Page[ParcelVersion].model_validate(found, from_attributes=True)
