"""The population registry's entries in the resource directory (政务信息资源目录), as its steward registers them.

Base items (基础信息项) are shared unconditionally, as base items must be; the rest of the record only under
conditions the owner reviews. Both cover the same paths: a caller sees the union of the fields granted to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from onesource.population.demo import PersonFactory, to_csv
from onesource.population.persons.events import PERSON_TOPIC
from onesource.registry.directory import DemoBatch, Registry

_PATHS = ["/v1/persons/{id_number}", "/v1/persons"]
_COMMON: Final = {
    "category": "base",
    "format": "api/json",
    "update_cycle": "realtime",
    "service": "population",
    "paths": _PATHS,
    "key": "id_number",
    "topic": PERSON_TOPIC,
}


def _field(name: str, data_type: str, length: int | None, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "element": f"person.{name}",
        "data_type": data_type,
        "length": length,
        "description": description,
        "authoritative": True,
    }


def resources(provider: str) -> list[dict[str, Any]]:
    """The registry's resources as ``POST /v1/resources`` bodies, provided by department ``provider``."""
    return [
        {
            **_COMMON,
            "id": "population.person",
            "name": "人口基础信息",
            "summary": (
                "自然人的公民身份号码、姓名、性别、民族、出生日期和是否死亡等基础信息项，"
                "由公安机关权威采集、无条件共享。"
            ),
            "provider": provider,
            "share_type": "unconditional",
            "fields": [
                _field("id_number", "C", 18, "公民身份号码（GB 11643-1999）"),
                _field("name", "C", 64, "姓名"),
                _field("sex", "C", 1, "性别（GB/T 2261.1）"),
                _field("ethnicity", "C", 2, "民族（GB/T 3304）"),
                _field("birth_date", "D", 8, "出生日期"),
                _field("deceased", "L", 1, "是否死亡"),
            ],
            "filters": {"born_from": ["birth_date"], "born_to": ["birth_date"]},
        },
        {
            **_COMMON,
            "id": "population.person-extended",
            "name": "人口扩展信息",
            "summary": (
                "曾用名、出生地、户籍地址与户籍区划、婚姻状况、学历、户号、与户主关系和死亡日期等扩展信息项，"
                "有条件共享。"
            ),
            "provider": provider,
            "share_type": "conditional",
            "share_condition": "仅限依法履行职责需要，说明用途和法律依据，经公安局审核、共享主管部门确认后共享。",
            "fields": [
                # the record key, so this resource can name its records; the datum itself is population.person's
                {
                    **_field("id_number", "C", 18, "公民身份号码（键，权威来源为人口基础信息）"),
                    "authoritative": False,
                    "source_element": "person.id_number",
                },
                _field("former_names", "C", 640, "曾用名"),
                _field("birthplace_code", "C", 6, "出生地行政区划代码（GB/T 2260）"),
                _field("household_region_code", "C", 6, "户籍地行政区划代码（GB/T 2260）"),
                _field("household_address", "C", 200, "户籍地址"),
                _field("marital_status", "C", 2, "婚姻状况（GB/T 2261.2）"),
                _field("education", "C", 2, "学历（GB/T 4658）"),
                _field("household_id", "C", 32, "户号"),
                _field("relationship_to_head", "C", 2, "与户主关系（GB/T 4761）"),
                _field("death_date", "D", 8, "死亡日期"),
            ],
            "filters": {"region": ["household_region_code"]},
        },
    ]


#: Synthetic persons the demo mesh registers, in imports of ``PERSONS_PER_IMPORT`` rows.
DEMO_PERSONS = 3000
PERSONS_PER_IMPORT = 1000


def demo_imports(seed: int) -> Iterator[DemoBatch]:
    """The demo mesh's synthetic persons, as bulk imports (CSV)."""
    factory = PersonFactory(seed)
    for start in range(0, DEMO_PERSONS, PERSONS_PER_IMPORT):
        batch = list(factory.persons(min(PERSONS_PER_IMPORT, DEMO_PERSONS - start)))
        yield DemoBatch("/v1/imports", b"".join(to_csv(batch)), "text/csv", len(batch))


REGISTRY = Registry(
    service="population",
    owner="psb",
    resources=resources,
    demo=demo_imports,
    demo_records=DEMO_PERSONS,
    seeded_probe="/v1/persons",
)
"""The population registry, as the platform finds it (entry point ``onesource.registries``)."""
