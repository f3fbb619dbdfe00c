"""API shapes of addresses: GeoJSON Features in and out, and the flat record events and history carry.

The levels are GB/T 23705-2009's (数字城市地理信息公共平台地名/地址编码规则): administrative division → town or
street office (乡镇/街道) → community or village (社区/村) → road or street (街路巷) → door number (门牌号) →
building (楼栋) → unit (单元) → room (户室).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from onesource.geo.geojson import Crs, PointGeometry, feature, json_ready
from onesource.geo.geometry import to_geojson
from onesource.registry.records import RecordVersion

AddressCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{18}$")]
Part = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
ShortPart = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Status = Literal["active", "retired"]

#: The levels below the division, from the top (GB/T 23705-2009).
LEVELS = ("town", "community", "road", "door_number", "building", "unit", "room")
#: The record's fields in the order the catalog lists them (events carry them, ``geometry`` as GeoJSON).
RECORD_FIELDS = (
    "address_code",
    "division_code",
    *LEVELS,
    "full_address",
    "status",
    "retired_on",
    "retirement_reason",
    "geometry",
)

_GEOMETRY_DOC = "GeoJSON Point, CGCS2000 [longitude, latitude], inside China's extent."


class _Levels(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    town: Part = Field(examples=["北新桥街道"])
    """乡镇/街道: the town or street office."""
    community: Part | None = Field(default=None, examples=["民安社区"])
    """社区/村: the community or village."""
    road: Part | None = Field(default=None, examples=["东四北大街"])
    """街路巷: the road, street or lane."""
    door_number: ShortPart = Field(examples=["107号"])
    """门牌号: the door number, as posted."""
    building: ShortPart | None = Field(default=None, examples=["3号楼"])
    """楼栋: the building."""
    unit: ShortPart | None = Field(default=None, examples=["2单元"])
    """单元: the unit (staircase) of the building."""
    room: ShortPart | None = Field(default=None, examples=["501室"])
    """户室: the room or flat."""


class AddressPropertiesCreate(_Levels):
    """The properties of an address to register."""

    address_code: AddressCode = Field(examples=["110101001001000107"])
    """Address code: the community's 12-digit statistical division code (GB/T 2260 county + GB/T 10114 town and
    community parts) and a 6-digit sequence number within it."""


class AddressCreate(BaseModel):
    """An address to register: a GeoJSON Feature (RFC 7946) with a Point."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    type: Literal["Feature"]
    """Always ``Feature``."""
    id: str | None = None
    """Optional; when given, the address code."""
    geometry: dict[str, Any] = Field(
        description=_GEOMETRY_DOC, examples=[{"type": "Point", "coordinates": [116.417, 39.9365]}]
    )
    properties: AddressPropertiesCreate
    """The address's fields."""


class AddressPropertiesUpdate(BaseModel):
    """Levels to change (JSON merge patch); ``null`` clears an optional one."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    town: Part | None = None
    """乡镇/街道."""
    community: Part | None = None
    """社区/村."""
    road: Part | None = None
    """街路巷."""
    door_number: ShortPart | None = None
    """门牌号."""
    building: ShortPart | None = None
    """楼栋."""
    unit: ShortPart | None = None
    """单元."""
    room: ShortPart | None = None
    """户室."""

    @field_validator("town", "door_number", mode="before")
    @classmethod
    def _required_stays_required(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be cleared")
        return value


class AddressUpdate(BaseModel):
    """A JSON merge patch (RFC 7396) of an address's Feature: a new point, changed levels, or both."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    geometry: dict[str, Any] | None = Field(default=None, description=_GEOMETRY_DOC)
    properties: AddressPropertiesUpdate | None = None
    """The levels that change."""

    def changes(self) -> dict[str, Any]:
        """The record fields this patch sets, flat, JSON-ready (``geometry`` as sent)."""
        changed: dict[str, Any] = {}
        if self.properties is not None:
            changed.update(self.properties.model_dump(mode="json", include=self.properties.model_fields_set))
        if "geometry" in self.model_fields_set:
            changed["geometry"] = self.geometry
        return changed


class Retirement(BaseModel):
    """An address's retirement (注销): the door or building no longer exists, or the address was renumbered."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    retired_on: date = Field(examples=["2025-06-30"])
    """The day it ceased; not in the future."""
    reason: Part = Field(examples=["门牌整顿重新编号"])
    """Why."""


class AddressRecord(BaseModel):
    """An address as the registry holds it, flat: its fields and its point (what events and history carry)."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    address_code: str
    """Address code, the record key."""
    division_code: str
    """County-level GB/T 2260 division (the code's first six digits)."""
    town: str
    """乡镇/街道."""
    community: str | None
    """社区/村."""
    road: str | None
    """街路巷."""
    door_number: str
    """门牌号."""
    building: str | None
    """楼栋."""
    unit: str | None
    """单元."""
    room: str | None
    """户室."""
    full_address: str
    """The whole address in words, from the province down (the division's names as they are today)."""
    status: Status
    """``active``, or ``retired`` (注销)."""
    retired_on: date | None
    """When it was retired."""
    retirement_reason: str | None
    """Why it was retired."""
    geometry: dict[str, Any]
    """The point, GeoJSON."""
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


class AddressProperties(BaseModel):
    """The properties of an address's Feature."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    address_code: str
    """Address code, the record key."""
    division_code: str
    """County-level GB/T 2260 division."""
    town: str
    """乡镇/街道."""
    community: str | None
    """社区/村."""
    road: str | None
    """街路巷."""
    door_number: str
    """门牌号."""
    building: str | None
    """楼栋."""
    unit: str | None
    """单元."""
    room: str | None
    """户室."""
    full_address: str
    """The whole address in words."""
    status: Status
    """``active`` or ``retired``."""
    retired_on: date | None
    """When it was retired."""
    retirement_reason: str | None
    """Why it was retired."""
    distance_m: float | None = None
    """Only in answers to ``near``: metres from the point asked about (great circle on the mean sphere, as
    PostGIS's geography ``<->`` orders them)."""
    version: int | None = None
    """Version of the record (its ``ETag``); not shared through the gateway."""
    created_at: datetime | None = None
    """When it was registered; not shared through the gateway."""
    updated_at: datetime | None = None
    """When it last changed; not shared through the gateway."""


class AddressFeature(BaseModel):
    """An address as a GeoJSON Feature."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    type: Literal["Feature"]
    """Always ``Feature``."""
    id: str
    """The address code."""
    geometry: PointGeometry
    """The point."""
    properties: AddressProperties
    """The address's fields."""


class AddressCollection(BaseModel):
    """A page of addresses as a GeoJSON FeatureCollection."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    type: Literal["FeatureCollection"]
    """Always ``FeatureCollection``."""
    features: list[AddressFeature]
    """The addresses of this page (nearest first for ``near``)."""
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; ``null`` on the last page."""


class AddressVersion(RecordVersion):
    """One version of an address: what changed, who changed it, when, and the record (flat, GeoJSON point)."""

    change: Literal["registered", "updated", "retired"]
    """What happened."""


_RECORD_COLUMNS = tuple(name for name in AddressRecord.model_fields if name != "geometry")


def address_document(address: Any, crs: Crs = "cgcs2000", distance_m: float | None = None) -> dict[str, Any]:
    """An address row as a Feature document, JSON-ready (lists build these without validating them again).

    A row of the read pool (a mapping of the table's columns, which its constraints and the registration's rules
    have checked) is written out directly: the searches answer dozens per request.
    """
    if isinstance(address, Mapping):
        record = {name: json_ready(address[name]) for name in _RECORD_COLUMNS}
        record["geometry"] = to_geojson(address["geometry"])
    else:
        record = AddressRecord.model_validate(address).model_dump(mode="json")
    extra: dict[str, Any] = {} if distance_m is None else {"distance_m": round(distance_m, 2)}
    return feature(record, "address_code", crs, extra)


def address_feature(address: Any, crs: Crs = "cgcs2000", distance_m: float | None = None) -> AddressFeature:
    """An address row as a Feature (its bookkeeping columns among the properties, for the owner)."""
    return AddressFeature.model_validate(address_document(address, crs, distance_m))
