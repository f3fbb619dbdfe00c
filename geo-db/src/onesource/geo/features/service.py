"""The registry's OGC API – Features: which collections exist and one page of a collection's items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.geo.addresses import service as addresses
from onesource.geo.addresses.schemas import address_document
from onesource.geo.coordinates import MAX_LATITUDE, MAX_LONGITUDE, MIN_LATITUDE, MIN_LONGITUDE
from onesource.geo.geojson import Box, Crs
from onesource.geo.parcels import service as parcels
from onesource.geo.parcels.schemas import parcel_document
from onesource.kit.db import Reader
from onesource.kit.errors import NotFound

CRS84: Final = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CGCS2000: Final = "http://www.opengis.net/def/crs/EPSG/0/4490"
CONFORMANCE: Final = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
)


class CollectionNotFound(NotFound):
    """No collection has this id (404)."""

    type = "collection-not-found"
    title = "Collection not found"


class FeatureNotFound(NotFound):
    """The collection has no feature with this id (404)."""

    type = "feature-not-found"
    title = "Feature not found"


@dataclass(frozen=True)
class FeatureCollectionKind:
    """One collection the API serves."""

    id: str
    title: str
    description: str


COLLECTIONS: Final[Mapping[str, FeatureCollectionKind]] = {
    "addresses": FeatureCollectionKind(
        "addresses", "地址", "Addresses (GB/T 23705 levels) with their points, CGCS2000."
    ),
    "parcels": FeatureCollectionKind(
        "parcels", "宗地", "Parcels with their boundaries, GB/T 21010-2017 land use and geodesic area, CGCS2000."
    ),
}
#: Every collection lies in China's extent (the registry refuses geometries outside it).
EXTENT: Final = {"bbox": [[MIN_LONGITUDE, MIN_LATITUDE, MAX_LONGITUDE, MAX_LATITUDE]], "crs": CRS84}


def kind(collection_id: str) -> FeatureCollectionKind:
    """The collection ``collection_id``; :class:`CollectionNotFound` (404) otherwise."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise CollectionNotFound(f"no collection {collection_id!r}; there are {', '.join(COLLECTIONS)}")
    return found


@dataclass(frozen=True)
class ItemsSlice:
    """One page of items as Feature documents, and the cursor of the next."""

    features: list[dict[str, Any]]
    next_cursor: str | None


async def items(
    connection: Reader, collection_id: str, *, bbox: Box | None, crs: Crs, limit: int, cursor: str | None
) -> ItemsSlice:
    """One page of the collection's active items in key order, meeting ``bbox`` when given."""
    kind(collection_id)
    if collection_id == "addresses":
        found_addresses = await addresses.search(
            connection, bbox=bbox, division=None, include_retired=False, limit=limit, cursor=cursor
        )
        return ItemsSlice(
            [address_document(dict(row), crs) for row in found_addresses.items],
            found_addresses.next_cursor,
        )
    found_parcels = await parcels.search(
        connection,
        contains=None,
        bbox=bbox,
        division=None,
        land_use=None,
        include_retired=False,
        limit=limit,
        cursor=cursor,
    )
    return ItemsSlice([parcel_document(dict(row), crs) for row in found_parcels.items], found_parcels.next_cursor)


async def item(session: AsyncSession, collection_id: str, feature_id: str, crs: Crs) -> dict[str, Any]:
    """One item of the collection as a Feature document; 404 for an unknown collection or feature."""
    kind(collection_id)
    try:
        if collection_id == "addresses":
            return address_document(await addresses.get(session, feature_id), crs)
        return parcel_document(await parcels.get(session, feature_id), crs)
    except NotFound:
        raise FeatureNotFound(f"collection {collection_id!r} has no feature {feature_id!r}") from None
