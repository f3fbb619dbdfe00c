"""Address endpoints: ``/v1/addresses`` (through the gateway ``/api/geo/v1/addresses``), GeoJSON in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from onesource.geo.addresses import service
from onesource.geo.addresses.schemas import (
    AddressCollection,
    AddressCreate,
    AddressFeature,
    AddressUpdate,
    AddressVersion,
    Retirement,
    address_document,
    address_feature,
)
from onesource.geo.dependencies import TodayDep
from onesource.geo.geojson import (
    GEOJSON_MEDIA_TYPE,
    Crs,
    CrsQuery,
    GeoJSONResponse,
    InvalidQuery,
    box,
    collection,
    feature_version,
    position,
)
from onesource.geo.models import Address as AddressRow
from onesource.kit.concurrency import IfMatch, expected_version, set_etag
from onesource.kit.db import ReadDep, SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.idempotency import idempotent
from onesource.kit.pagination import Cursor, Limit, Page
from onesource.registry.access import OwnerDep, ReaderDep, RegistrarDep

router = APIRouter(prefix="/v1/addresses", tags=["addresses"])

CodePath = Annotated[str, Path(min_length=1, max_length=32, description="Address code (18 digits).")]
#: The largest radius ``near`` answers: a search around a point, not a scan of a province.
MAX_RADIUS_M = 50_000


async def _address_by_code(code: CodePath, session: SessionDep, reader: ReaderDep) -> AddressRow:
    return await service.get(session, code)


AddressByCode = Annotated[AddressRow, Depends(_address_by_code)]
"""The address named in the path, or 404 (checked after the caller may read addresses at all)."""


def _answer(address: AddressRow, response: Response, crs: Crs = "cgcs2000") -> AddressFeature:
    set_etag(response, address.version)
    return address_feature(address, crs)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AddressFeature,
    response_class=GeoJSONResponse,
    responses=problem_responses(401, 403, 409, 422),
)
@idempotent(location=lambda address: f"/v1/addresses/{address['id']}", version_of=feature_version)
async def register_address(
    body: AddressCreate, session: SessionDep, registrar: RegistrarDep, today: TodayDep
) -> AddressFeature:
    """Register an address (registrar of the owning department): a GeoJSON Feature with a Point.

    The answer's ``properties.version`` is its version (1); reads answer it as ``ETag``.
    """
    return address_feature(await service.register(session, body, registrar, today))


@router.get(
    "",
    response_class=GeoJSONResponse,
    responses={
        200: {"model": AddressCollection, "content": {GEOJSON_MEDIA_TYPE: {}}, "description": "A page of addresses"},
        **problem_responses(401, 403, 422),
    },
)
async def search_addresses(
    connection: ReadDep,
    reader: ReaderDep,
    near: Annotated[
        str | None,
        Query(description="``<lon>,<lat>`` (CGCS2000): the addresses within ``radius`` of it, nearest first."),
    ] = None,
    radius: Annotated[
        float | None, Query(gt=0, le=MAX_RADIUS_M, description="Metres around ``near`` (required with it).")
    ] = None,
    bbox: Annotated[
        str | None, Query(description="``<minlon>,<minlat>,<maxlon>,<maxlat>``: only addresses in this box.")
    ] = None,
    division_code: Annotated[
        str | None, Query(pattern=r"^\d{2}(\d{2}){0,2}$", description="The county's division code starts with this.")
    ] = None,
    include_retired: Annotated[bool, Query(description="Also retired addresses.")] = False,
    crs: CrsQuery = "cgcs2000",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> GeoJSONResponse:
    """Addresses near a point (nearest first, with ``distance_m``), in a box or in a division: a FeatureCollection."""
    centre = position("near", near)
    if centre is not None:
        if radius is None:
            raise InvalidQuery("radius", "is required with near (metres)")
        if bbox is not None:
            raise InvalidQuery("bbox", "cannot be combined with near")
        found = await service.near(
            connection,
            centre,
            radius,
            division=division_code,
            include_retired=include_retired,
            limit=limit,
            cursor=cursor,
        )
        features = [address_document(dict(row), crs, row["distance_m"]) for row in found.items]
    else:
        if radius is not None:
            raise InvalidQuery("radius", "only goes with near")
        page = await service.search(
            connection,
            bbox=box("bbox", bbox),
            division=division_code,
            include_retired=include_retired,
            limit=limit,
            cursor=cursor,
        )
        found = page
        features = [address_document(dict(address), crs) for address in page.items]
    return GeoJSONResponse(collection(features, found.next_cursor))


@router.get("/{code}", response_class=GeoJSONResponse, responses=problem_responses(401, 403, 404, 422))
async def get_address(address: AddressByCode, response: Response, crs: CrsQuery = "cgcs2000") -> AddressFeature:
    """One address as a GeoJSON Feature, with its version as ``ETag``."""
    return _answer(address, response, crs)


@router.patch(
    "/{code}", response_class=GeoJSONResponse, responses=problem_responses(400, 401, 403, 404, 409, 412, 422, 428)
)
async def update_address(
    code: CodePath,
    body: AddressUpdate,
    session: SessionDep,
    registrar: RegistrarDep,
    today: TodayDep,
    response: Response,
    if_match: IfMatch = None,
) -> AddressFeature:
    """Change an address (JSON merge patch of its Feature: ``geometry``, ``properties``); ``If-Match`` required."""
    address = await service.update(
        session, code, body, expected_version=expected_version(if_match), principal=registrar, today=today
    )
    return _answer(address, response)


@router.post(
    "/{code}/retirement",
    response_class=GeoJSONResponse,
    responses=problem_responses(400, 401, 403, 404, 409, 412, 422),
)
async def retire_address(
    code: CodePath,
    body: Retirement,
    session: SessionDep,
    registrar: RegistrarDep,
    today: TodayDep,
    response: Response,
    if_match: IfMatch = None,
) -> AddressFeature:
    """Retire an address (注销); ``If-Match`` is honoured when sent."""
    expected = expected_version(if_match) if if_match is not None else None
    address = await service.retire(
        session, code, body.retired_on, body.reason, expected_version=expected, principal=registrar, today=today
    )
    return _answer(address, response)


@router.get("/{code}/history", responses=problem_responses(401, 403, 404, 422))
async def address_history(
    code: CodePath, session: SessionDep, owner: OwnerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[AddressVersion]:
    """Every version of an address, oldest first: what changed, who changed it, when, and the record as it was."""
    found = await service.history(session, code, limit=limit, cursor=cursor)
    return Page[AddressVersion].model_validate(found, from_attributes=True)
