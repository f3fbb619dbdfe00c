"""GeoJSON (RFC 7946) answers shared by addresses, parcels and the OGC API.

Features, collections, ``?crs=``, query positions and boxes.

A record's feature is its ``id`` (the record key), its ``geometry`` and its ``properties`` — the record's other
fields, so that the gateway masks a feature as it masks a record (``registry.shapes.geojson``). Lists are
FeatureCollections with the platform's ``next_cursor``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from onesource.geo.coordinates import geometry_to_gcj02
from onesource.kit.errors import ServiceError

GEOJSON_MEDIA_TYPE: Final = "application/geo+json"


def feature_version(feature: Mapping[str, Any]) -> Any:
    """A record's version in its feature (``properties.version``): the ``ETag`` of a registration's answer."""
    return feature["properties"]["version"]


class GeoJSONResponse(JSONResponse):
    """A JSON answer of media type ``application/geo+json`` (RFC 7946 §12)."""

    media_type = GEOJSON_MEDIA_TYPE


Crs = Literal["cgcs2000", "gcj02"]
CrsQuery = Annotated[
    Crs,
    Query(
        description=(
            "Coordinates of the answer: ``cgcs2000`` (stored, EPSG:4490 longitude/latitude, the default) or "
            "``gcj02`` for display on Chinese web maps (the public transform; outside China unchanged). "
            "Query positions and boxes are always CGCS2000."
        )
    ),
]


class InvalidQuery(ServiceError):
    """A query parameter is malformed (422), e.g. a position that is not ``<lon>,<lat>``."""

    status = 422
    type = "invalid-query"
    title = "Invalid query parameter"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}", invalid_params=[{"name": f"query.{name}", "reason": reason}])


def _numbers(name: str, text: str, count: int) -> list[float]:
    parts = text.split(",")
    if len(parts) != count:
        raise InvalidQuery(name, f"must be {count} comma-separated numbers")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise InvalidQuery(name, f"must be {count} comma-separated numbers") from None
    if not all(math.isfinite(number) for number in numbers):
        raise InvalidQuery(name, "must be finite numbers")
    return numbers


@dataclass(frozen=True)
class Position:
    """A longitude/latitude position (CGCS2000)."""

    longitude: float
    latitude: float


@dataclass(frozen=True)
class Box:
    """A longitude/latitude box (CGCS2000), west-south-east-north."""

    west: float
    south: float
    east: float
    north: float


def position(name: str, text: str | None) -> Position | None:
    """``<lon>,<lat>`` as a position; 422 naming the parameter when it is not one."""
    if text is None:
        return None
    longitude, latitude = _numbers(name, text, 2)
    if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        raise InvalidQuery(name, "longitude must lie in [-180, 180] and latitude in [-90, 90]")
    return Position(longitude, latitude)


def box(name: str, text: str | None) -> Box | None:
    """``<minlon>,<minlat>,<maxlon>,<maxlat>`` as a box; 422 naming the parameter when it is not one."""
    if text is None:
        return None
    west, south, east, north = _numbers(name, text, 4)
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidQuery(name, "must be minlon,minlat,maxlon,maxlat with min ≤ max, in degrees")
    return Box(west, south, east, north)


def json_ready(value: Any) -> Any:
    """A column's value as the record shapes' ``model_dump(mode="json")`` writes it (dates ISO 8601, UTC as ``Z``)."""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    return value


def feature(record: Mapping[str, Any], key: str, crs: Crs, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A record (its fields, ``geometry`` among them) as a GeoJSON Feature with ``id`` its key."""
    geometry = record["geometry"]
    properties = {name: value for name, value in record.items() if name != "geometry"}
    if extra:
        properties.update(extra)
    return {
        "type": "Feature",
        "id": record[key],
        "geometry": geometry_to_gcj02(geometry) if crs == "gcj02" else geometry,
        "properties": properties,
    }


def collection(features: Sequence[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    """A FeatureCollection page with the platform's ``next_cursor``."""
    return {"type": "FeatureCollection", "features": list(features), "next_cursor": next_cursor}


class PointGeometry(BaseModel):
    """A GeoJSON Point: [longitude, latitude] (CGCS2000, or GCJ-02 when asked)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    type: Literal["Point"]
    """Always ``Point``."""
    coordinates: list[float] = Field(min_length=2, max_length=2, examples=[[116.397026, 39.918058]])
    """[longitude, latitude] in degrees."""


class PolygonGeometry(BaseModel):
    """A GeoJSON Polygon: linear rings, the exterior first and counterclockwise (RFC 7946 §3.1.6)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    type: Literal["Polygon"]
    """Always ``Polygon``."""
    coordinates: list[list[list[float]]]
    """Closed rings of [longitude, latitude] positions."""


class MultiPolygonGeometry(BaseModel):
    """A GeoJSON MultiPolygon."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    type: Literal["MultiPolygon"]
    """Always ``MultiPolygon``."""
    coordinates: list[list[list[list[float]]]]
    """Polygons, each a list of closed rings."""


AreaGeometry = Annotated[PolygonGeometry | MultiPolygonGeometry, Field(discriminator="type")]
