"""The geospatial registry's entries in the resource directory (政务信息资源目录), as its steward registers them.

Answers are GeoJSON (DESIGN.md "Answer shapes"): a resource's fields are the members of a feature's ``properties``
plus ``geometry``. Divisions are shared unconditionally; addresses and parcels on conditions the owner reviews.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from onesource.geo.addresses.events import ADDRESS_TOPIC
from onesource.geo.demo import GeoFactory, collection_body
from onesource.geo.divisions.events import DIVISION_TOPIC
from onesource.geo.parcels.events import PARCEL_TOPIC
from onesource.registry.directory import DemoBatch, Registry

_COMMON: Final = {"category": "base", "update_cycle": "realtime", "service": "geo"}


def _field(
    element_prefix: str, name: str, data_type: str, length: int | None, description: str, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "element": f"{element_prefix}.{name}",
        "data_type": data_type,
        "length": length,
        "description": description,
        "authoritative": True,
        **extra,
    }


def _key_copy(field: dict[str, Any]) -> dict[str, Any]:
    """A resource's copy of a datum another field owns (the record key a second resource names records by)."""
    return {**field, "authoritative": False, "source_element": field["element"]}


def resources(provider: str) -> list[dict[str, Any]]:
    """The registry's resources as ``POST /v1/resources`` bodies, provided by department ``provider``."""
    division = "geo.division"
    address = "geo.address"
    parcel = "geo.parcel"
    return [
        {
            **_COMMON,
            "id": "geo.division",
            "name": "行政区划",
            "summary": "GB/T 2260 县级以上行政区划代码、名称、层级、上级区划及启用和停用日期，按日期查询，无条件共享。",
            "provider": provider,
            "format": "api/json",
            "share_type": "unconditional",
            "paths": ["/v1/divisions", "/v1/divisions/{code}", "/v1/divisions/{code}/history"],
            "key": "code",
            "topic": DIVISION_TOPIC,
            "fields": [
                _field(division, "code", "C", 6, "行政区划代码（GB/T 2260）"),
                _field(division, "name", "C", 64, "行政区划名称"),
                _field(division, "level", "C", 16, "层级：province 省级、prefecture 地级、county 县级"),
                _field(division, "parent", "C", 6, "上级行政区划代码（同一日期）"),
                _field(division, "valid_from", "D", 8, "该名称启用日期"),
                _field(division, "valid_to", "D", 8, "该名称停用日期（不含）"),
            ],
            "filters": {"date": ["valid_from", "valid_to"]},  # a division as it was on a date
        },
        {
            **_COMMON,
            "id": "geo.address",
            "name": "标准地址",
            "summary": (
                "按 GB/T 23705 层级（区划、街道乡镇、社区村、街路巷、门牌、楼栋、单元、户室）登记的标准地址"
                "及其坐标（CGCS2000），GeoJSON。"
            ),
            "provider": provider,
            "format": "api/geojson",
            "shape": "geojson",
            "share_type": "conditional",
            "share_condition": "仅限依法履行职责需要，说明用途，经自然资源局审核、共享主管部门确认后共享。",
            "paths": [
                "/v1/addresses",
                "/v1/addresses/{code}",
                "/v1/collections/addresses/items",
                "/v1/collections/addresses/items/{feature_id}",
            ],
            "key": "address_code",
            "topic": ADDRESS_TOPIC,
            "fields": [
                _field(address, "address_code", "C", 18, "地址编码（社区村级统计用区划代码 12 位 + 顺序号 6 位）"),
                _key_copy(
                    _field(division, "code", "C", 6, "所在县级行政区划代码（GB/T 2260）") | {"name": "division_code"}
                ),
                _field(address, "town", "C", 64, "乡镇（街道）"),
                _field(address, "community", "C", 64, "社区（村）"),
                _field(address, "road", "C", 64, "街路巷"),
                _field(address, "door_number", "C", 32, "门牌号"),
                _field(address, "building", "C", 32, "楼栋"),
                _field(address, "unit", "C", 16, "单元"),
                _field(address, "room", "C", 16, "户室"),
                _field(address, "full_address", "C", 400, "完整地址"),
                _field(address, "status", "C", 16, "状态：active 有效、retired 注销"),
                _field(address, "retired_on", "D", 8, "注销日期"),
                _field(address, "retirement_reason", "C", 200, "注销原因"),
                _field(address, "geometry", "G", None, "地址点位（GeoJSON Point，CGCS2000 经纬度）"),
                _field(address, "distance_m", "N", 12, "到查询点的距离（米），仅附近查询返回"),
            ],
            "filters": {"include_retired": ["status"]},
        },
        {
            **_COMMON,
            "id": "geo.parcel",
            "name": "宗地",
            "summary": "宗地代码、界址范围（GeoJSON 面，CGCS2000）、GB/T 21010-2017 土地利用现状分类、椭球面积和坐落。",
            "provider": provider,
            "format": "api/geojson",
            "shape": "geojson",
            "share_type": "conditional",
            "share_condition": "仅限依法履行职责需要，说明用途，经自然资源局审核、共享主管部门确认后共享。",
            "paths": [
                "/v1/parcels",
                "/v1/parcels/{code}",
                "/v1/collections/parcels/items",
                "/v1/collections/parcels/items/{feature_id}",
            ],
            "key": "parcel_code",
            "topic": PARCEL_TOPIC,
            "fields": [
                _field(parcel, "parcel_code", "C", 19, "宗地代码（GB/T 37346-2019）"),
                _key_copy(
                    _field(division, "code", "C", 6, "所在县级行政区划代码（GB/T 2260）") | {"name": "division_code"}
                ),
                _field(parcel, "land_use", "C", 4, "土地利用现状分类二级类代码（GB/T 21010-2017）"),
                _field(parcel, "land_use_name", "C", 64, "土地利用现状分类名称"),
                _field(parcel, "location_description", "C", 200, "坐落"),
                _field(parcel, "area_m2", "N", 14, "宗地面积（平方米，CGCS2000 椭球面积）"),
                _field(parcel, "status", "C", 16, "状态：active 有效、retired 注销"),
                _field(parcel, "retired_on", "D", 8, "注销日期"),
                _field(parcel, "retirement_reason", "C", 200, "注销原因"),
                _field(parcel, "geometry", "G", None, "界址范围（GeoJSON Polygon/MultiPolygon，CGCS2000 经纬度）"),
            ],
            "filters": {"include_retired": ["status"]},
        },
    ]


#: Synthetic parcels (and as many addresses, one on each) the demo mesh registers, in bulk registrations.
DEMO_PARCELS = 400
FEATURES_PER_IMPORT = 50


def demo_imports(seed: int) -> Iterator[DemoBatch]:
    """The demo mesh's synthetic parcels and addresses, as bulk registrations (FeatureCollections)."""
    for batch in GeoFactory(seed).batches(DEMO_PARCELS, FEATURES_PER_IMPORT):
        yield DemoBatch(
            f"/v1/imports?collection={batch.collection}",
            collection_body(batch),
            "application/geo+json",
            len(batch.features),
        )


REGISTRY = Registry(
    service="geo",
    owner="nrb",
    resources=resources,
    demo=demo_imports,
    demo_records=2 * DEMO_PARCELS,
    seeded_probe="/v1/imports",
)
"""The geospatial registry, as the platform finds it (entry point ``onesource.registries``)."""
