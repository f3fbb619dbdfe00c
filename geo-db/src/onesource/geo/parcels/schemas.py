"""API shapes of parcels (宗地): GeoJSON Features in and out, and the flat record events and history carry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field, field_validator

from onesource.geo.geojson import AreaGeometry, Crs, feature
from onesource.geo.geometry import to_geojson
from onesource.registry.records import RecordVersion
from onesource.standards.land_use import land_use_class

ParcelCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^\d{12}[A-Z]{2}\d{5}$")]
LandUse = Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Status = Literal["active", "retired"]

#: The record's fields in the order the catalog lists them (events carry them, ``geometry`` as GeoJSON).
RECORD_FIELDS = (
    "parcel_code",
    "division_code",
    "land_use",
    "land_use_name",
    "location_description",
    "area_m2",
    "status",
    "retired_on",
    "retirement_reason",
    "geometry",
)
#: Properties a registrar may change with ``PATCH`` (and the geometry); the code, and the division it encodes,
#: never change (a re-surveyed parcel with a new code is a new registration, the old one retired).
MUTABLE_PROPERTIES = ("land_use", "location_description")

_GEOMETRY_DOC = (
    "GeoJSON Polygon or MultiPolygon, CGCS2000 longitude/latitude, inside China's extent, closed rings, "
    "not self-intersecting."
)


class ParcelPropertiesCreate(BaseModel):
    """The properties of a parcel to register."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    parcel_code: ParcelCode = Field(examples=["330106001002GB00001"])
    """宗地代码 (GB/T 37346-2019): county division (6) + cadastral district (3) + sub-district (3) + parcel
    feature code (2 letters: ownership G/J/Z, then the kind of right) + sequence number (5)."""
    land_use: LandUse = Field(examples=["0701"])
    """Land use, a GB/T 21010-2017 second-level class (4 digits)."""
    location_description: Description | None = Field(default=None, examples=["西湖区文三路90号"])
    """坐落: where the parcel lies, in words."""


class ParcelCreate(BaseModel):
    """A parcel to register: a GeoJSON Feature (RFC 7946)."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    type: Literal["Feature"]
    """Always ``Feature``."""
    id: str | None = None
    """Optional; when given, the parcel code."""
    geometry: dict[str, Any] = Field(
        description=_GEOMETRY_DOC,
        examples=[
            {
                "type": "Polygon",
                "coordinates": [[[120.1, 30.27], [120.101, 30.27], [120.101, 30.271], [120.1, 30.271], [120.1, 30.27]]],
            }
        ],
    )
    properties: ParcelPropertiesCreate
    """The parcel's fields."""


class ParcelPropertiesUpdate(BaseModel):
    """Properties to change (JSON merge patch); ``null`` clears an optional one."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    land_use: LandUse | None = None
    """New GB/T 21010-2017 second-level class."""
    location_description: Description | None = None
    """New 坐落."""

    @field_validator("land_use", mode="before")
    @classmethod
    def _required_stays_required(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be cleared")
        return value


class ParcelUpdate(BaseModel):
    """A JSON merge patch (RFC 7396) of a parcel's Feature: a new boundary, changed properties, or both."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    geometry: dict[str, Any] | None = Field(default=None, description=_GEOMETRY_DOC)
    properties: ParcelPropertiesUpdate | None = None
    """The properties that change."""

    def changes(self) -> dict[str, Any]:
        """The record fields this patch sets, flat, JSON-ready (``geometry`` as sent)."""
        changed: dict[str, Any] = {}
        if self.properties is not None:
            changed.update(self.properties.model_dump(mode="json", include=self.properties.model_fields_set))
        if "geometry" in self.model_fields_set:
            changed["geometry"] = self.geometry
        return changed


class Retirement(BaseModel):
    """A parcel's retirement (注销): it ceased to exist, e.g. merged or split into new parcels."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    retired_on: date = Field(examples=["2025-06-30"])
    """The day it ceased; not in the future."""
    reason: Description = Field(examples=["宗地合并"])
    """Why."""


class ParcelRecord(BaseModel):
    """A parcel as the registry holds it, flat: its fields and its geometry (what events and history carry)."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    parcel_code: str
    """宗地代码, the record key."""
    division_code: str
    """County-level GB/T 2260 division (the code's first six digits)."""
    land_use: str
    """GB/T 21010-2017 second-level class."""
    location_description: str | None
    """坐落."""
    area_m2: float
    """Area in square metres on the CGCS2000 ellipsoid (PostGIS geodesic area)."""
    status: Status
    """``active``, or ``retired`` (注销)."""
    retired_on: date | None
    """When it was retired."""
    retirement_reason: str | None
    """Why it was retired."""
    geometry: dict[str, Any]
    """The boundary, GeoJSON."""
    version: int
    """Version of the record, 1 at registration; also its ``ETag``."""
    created_at: datetime
    """When it was registered."""
    updated_at: datetime
    """When it last changed."""

    @field_validator("geometry", mode="before")
    @classmethod
    def _as_geojson(cls, value: Any) -> Any:
        return to_geojson(value)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def land_use_name(self) -> str | None:
        """Name of the land-use class (GB/T 21010-2017)."""
        found = land_use_class(self.land_use)
        return found.name if found is not None else None


class ParcelProperties(BaseModel):
    """The properties of a parcel's Feature."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    parcel_code: str
    """宗地代码 (GB/T 37346-2019), the record key."""
    division_code: str
    """County-level GB/T 2260 division."""
    land_use: str
    """GB/T 21010-2017 second-level class."""
    land_use_name: str | None
    """Its name."""
    location_description: str | None
    """坐落."""
    area_m2: float
    """Area in square metres on the CGCS2000 ellipsoid."""
    status: Status
    """``active`` or ``retired``."""
    retired_on: date | None
    """When it was retired."""
    retirement_reason: str | None
    """Why it was retired."""
    version: int | None = None
    """Version of the record (its ``ETag``); not shared through the gateway."""
    created_at: datetime | None = None
    """When it was registered; not shared through the gateway."""
    updated_at: datetime | None = None
    """When it last changed; not shared through the gateway."""


class ParcelFeature(BaseModel):
    """A parcel as a GeoJSON Feature."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    type: Literal["Feature"]
    """Always ``Feature``."""
    id: str
    """The parcel code."""
    geometry: AreaGeometry
    """The boundary."""
    properties: ParcelProperties
    """The parcel's fields."""


class ParcelCollection(BaseModel):
    """A page of parcels as a GeoJSON FeatureCollection."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    type: Literal["FeatureCollection"]
    """Always ``FeatureCollection``."""
    features: list[ParcelFeature]
    """The parcels of this page."""
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; ``null`` on the last page."""


class ParcelVersion(RecordVersion):
    """One version of a parcel: what changed, who changed it, when, and the record (flat, GeoJSON geometry)."""

    change: Literal["registered", "updated", "retired"]
    """What happened."""


def parcel_document(parcel: Any, crs: Crs = "cgcs2000") -> dict[str, Any]:
    """A parcel row as a Feature document, JSON-ready (lists build these without validating them again)."""
    return feature(ParcelRecord.model_validate(parcel).model_dump(mode="json"), "parcel_code", crs)


def parcel_feature(parcel: Any, crs: Crs = "cgcs2000") -> ParcelFeature:
    """A parcel row as a Feature (its bookkeeping columns among the properties, for the owner)."""
    return ParcelFeature.model_validate(parcel_document(parcel, crs))
