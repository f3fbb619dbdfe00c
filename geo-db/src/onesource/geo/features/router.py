"""OGC API – Features – Part 1: Core for ``addresses`` and ``parcels``.

``/v1`` (landing page), ``/v1/conformance``, ``/v1/collections``, ``/v1/collections/{collectionId}``,
``…/items`` and ``…/items/{featureId}``.

Items are paged by cursor: each page's ``next`` link carries the cursor of the next one (OGC 17-069r4 §7.15.7
leaves the form of the link to the server).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request

from onesource.geo.features import service
from onesource.geo.features.schemas import Collection, Collections, Conformance, Extent, ItemsPage, LandingPage, Link
from onesource.geo.geojson import GEOJSON_MEDIA_TYPE, CrsQuery, GeoJSONResponse, InvalidQuery, box
from onesource.kit.db import ReadDep, SessionDep
from onesource.kit.errors import BadRequest, problem_responses
from onesource.kit.pagination import MAX_LIMIT, Cursor
from onesource.registry.access import ReaderDep

router = APIRouter(prefix="/v1", tags=["features"])

CollectionPath = Annotated[str, Path(description="``addresses`` or ``parcels``.")]
#: The query parameters ``…/items`` knows; any other is 400 (/req/core/query-param-unknown).
ITEMS_PARAMETERS: Final = frozenset({"bbox", "limit", "cursor", "crs", "datetime"})
JSON: Final = "application/json"


def _collection(kind: service.FeatureCollectionKind, prefix: str) -> Collection:
    return Collection(
        id=kind.id,
        title=kind.title,
        description=kind.description,
        crs=[service.CRS84, service.CGCS2000],
        extent=Extent(spatial=service.EXTENT),
        links=[
            Link(href=f"{prefix}{kind.id}", rel="self", type=JSON, title=kind.title),
            Link(href=f"{prefix}{kind.id}/items", rel="items", type=GEOJSON_MEDIA_TYPE, title=f"{kind.title} items"),
        ],
    )


@router.get("", responses=problem_responses(401, 403))
async def landing_page(reader: ReaderDep) -> LandingPage:
    """The landing page: where the API definition, the conformance declaration and the collections are."""
    return LandingPage(
        title="OneSource geospatial registry (地理空间基础信息库)",
        description="Addresses and parcels as OGC API – Features collections, CGCS2000 longitude/latitude.",
        links=[
            Link(href="v1", rel="self", type=JSON, title="This document"),
            Link(href="openapi.json", rel="service-desc", type="application/vnd.oai.openapi+json;version=3.0"),
            Link(href="v1/conformance", rel="conformance", type=JSON, title="Conformance classes"),
            Link(href="v1/collections", rel="data", type=JSON, title="Collections"),
        ],
    )


@router.get("/conformance", responses=problem_responses(401, 403))
async def conformance(reader: ReaderDep) -> Conformance:
    """The conformance classes implemented: Core, GeoJSON, OpenAPI 3.0."""
    return Conformance(conformsTo=list(service.CONFORMANCE))


@router.get("/collections", responses=problem_responses(401, 403))
async def list_collections(reader: ReaderDep) -> Collections:
    """Every feature collection: ``addresses`` and ``parcels``."""
    return Collections(
        links=[Link(href="collections", rel="self", type=JSON, title="This document")],
        collections=[_collection(kind, "collections/") for kind in service.COLLECTIONS.values()],
    )


@router.get("/collections/{collection_id}", responses=problem_responses(401, 403, 404))
async def get_collection(collection_id: CollectionPath, reader: ReaderDep) -> Collection:
    """One collection's description, with the link to its items."""
    return _collection(service.kind(collection_id), "")


def _items_link(request: Request, rel: str, title: str, **replace: str) -> dict[str, Any]:
    query = {**dict(request.query_params), **replace}
    return {
        "href": f"items?{urlencode(query)}" if query else "items",
        "rel": rel,
        "type": GEOJSON_MEDIA_TYPE,
        "title": title,
    }


@router.get(
    "/collections/{collection_id}/items",
    response_class=GeoJSONResponse,
    responses={
        200: {"model": ItemsPage, "content": {GEOJSON_MEDIA_TYPE: {}}, "description": "A page of items"},
        **problem_responses(400, 401, 403, 404, 422),
    },
)
async def list_items(
    collection_id: CollectionPath,
    request: Request,
    connection: ReadDep,
    reader: ReaderDep,
    bbox: Annotated[
        str | None, Query(description="``minlon,minlat,maxlon,maxlat`` (CRS84 = CGCS2000 at this scale).")
    ] = None,
    limit: Annotated[int, Query(ge=1, description=f"Items per page; above {MAX_LIMIT} counts as {MAX_LIMIT}.")] = 10,
    cursor: Cursor = None,
    crs: CrsQuery = "cgcs2000",
    datetime_: Annotated[
        str | None,
        Query(alias="datetime", description="Accepted; the items have no temporal extent, so it selects them all."),
    ] = None,
) -> GeoJSONResponse:
    """One page of the collection's items (GeoJSON FeatureCollection) meeting ``bbox``, with a ``next`` link."""
    unknown = sorted(set(request.query_params) - ITEMS_PARAMETERS)
    if unknown:
        raise BadRequest(
            f"unknown query parameters: {', '.join(unknown)} (known: {', '.join(sorted(ITEMS_PARAMETERS))})"
        )
    if bbox is not None and len(bbox.split(",")) == 6:
        raise InvalidQuery("bbox", "three-dimensional boxes are not supported; give minlon,minlat,maxlon,maxlat")
    page = await service.items(
        connection, collection_id, bbox=box("bbox", bbox), crs=crs, limit=min(limit, MAX_LIMIT), cursor=cursor
    )
    links = [
        _items_link(request, "self", "This page"),
        {"href": f"../{collection_id}", "rel": "collection", "type": JSON, "title": "The collection"},
    ]
    if page.next_cursor is not None:
        links.insert(1, _items_link(request, "next", "Next page", cursor=page.next_cursor))
    return GeoJSONResponse(
        {
            "type": "FeatureCollection",
            "features": page.features,
            "links": links,
            "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "numberReturned": len(page.features),
        }
    )


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    response_class=GeoJSONResponse,
    responses={
        200: {"description": "The feature (GeoJSON Feature with links)", "content": {GEOJSON_MEDIA_TYPE: {}}},
        **problem_responses(401, 403, 404, 422),
    },
)
async def get_item(
    collection_id: CollectionPath,
    feature_id: Annotated[str, Path(min_length=1, max_length=32, description="The feature's id (its record key).")],
    session: SessionDep,
    reader: ReaderDep,
    crs: CrsQuery = "cgcs2000",
) -> GeoJSONResponse:
    """One item of the collection as a GeoJSON Feature, with links to itself and its collection."""
    found = await service.item(session, collection_id, feature_id, crs)
    found["links"] = [
        {"href": feature_id, "rel": "self", "type": GEOJSON_MEDIA_TYPE, "title": "This feature"},
        {"href": f"../../{collection_id}", "rel": "collection", "type": JSON, "title": "The collection"},
    ]
    return GeoJSONResponse(found)
