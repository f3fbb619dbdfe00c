"""The legal-entity registry in the resource directory (政务信息资源目录), and what it needs from the platform.

Base items (基础信息项) are shared unconditionally, as base items must be; the rest of the record only under
conditions the owner reviews. Both cover the same paths: a caller sees the union of the fields granted to it.

The registry itself is a client of the platform: it reads ``population.person`` (whether a legal representative is
registered and alive) under its department's own grant, and takes that resource's change events for its findings.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, Final

from onesource.legal_entity.demo import EntityFactory, to_csv
from onesource.legal_entity.entities.events import ENTITY_TOPIC
from onesource.legal_entity.entities.rules import adult_on
from onesource.legal_entity.settings import PERSON_RESOURCE, PERSONS_PATH, REPRESENTATIVE_CHECK_PURPOSE
from onesource.registry.directory import DemoBatch, PlatformReader, Registry, RegistryClient, ShareRequest
from onesource.standards.citizen_id import embedded_birth_date

_PATHS = ["/v1/entities/{uscc}", "/v1/entities"]
_COMMON: Final = {
    "category": "base",
    "format": "api/json",
    "update_cycle": "realtime",
    "service": "legal-entity",
    "paths": _PATHS,
    "key": "uscc",
    "topic": ENTITY_TOPIC,
}


def _field(name: str, data_type: str, length: int | None, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "element": f"entity.{name}",
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
            "id": "legal-entity.entity",
            "name": "法人单位基础信息",
            "summary": (
                "法人和其他组织的统一社会信用代码、名称、类型、成立日期、登记状态、登记机关、住所所在行政区划、"
                "行业和住所等基础信息项，由市场监督管理部门权威登记、无条件共享。"
            ),
            "provider": provider,
            "share_type": "unconditional",
            "fields": [
                _field("uscc", "C", 18, "统一社会信用代码（GB 32100-2015）"),
                _field("name", "C", 200, "名称"),
                _field("entity_type", "C", 4, "法人和其他组织类型（GB 32100 机构类别或公司类型代码）"),
                _field("established_on", "D", 8, "成立日期"),
                _field("status", "C", 16, "登记状态（存续、歇业、吊销、注销、撤销、迁出）"),
                _field("registration_authority", "C", 200, "登记机关"),
                _field("region_code", "C", 6, "住所所在行政区划代码（GB/T 2260）"),
                _field("industry_code", "C", 4, "行业代码（GB/T 4754-2017 小类）"),
                _field("industry_section", "C", 1, "行业门类（GB/T 4754-2017，A–T）"),
                _field("address", "C", 400, "住所"),
            ],
            # GET /v1/entities?region=&industry=&established_from=&established_to= select by these fields
            "filters": {
                "region": ["region_code"],
                "industry": ["industry_code"],
                "established_from": ["established_on"],
                "established_to": ["established_on"],
            },
        },
        {
            **_COMMON,
            "id": "legal-entity.entity-extended",
            "name": "法人单位扩展信息",
            "summary": (
                "曾用名、法定代表人公民身份号码、注册资本、经营范围、登记状态变更原因和生效日期、营业期限等扩展信息项，"
                "有条件共享。"
            ),
            "provider": provider,
            "share_type": "conditional",
            "share_condition": (
                "仅限依法履行职责需要，说明用途和法律依据，经市场监督管理局审核、共享主管部门确认后共享。"
            ),
            "fields": [
                # the record key, so this resource can name its records; the datum itself is legal-entity.entity's
                {
                    **_field("uscc", "C", 18, "统一社会信用代码（键，权威来源为法人单位基础信息）"),
                    "authoritative": False,
                    "source_element": "entity.uscc",
                },
                _field("former_names", "C", 4000, "曾用名"),
                _field("legal_representative_id", "C", 18, "法定代表人公民身份号码（其人口信息以人口基础信息库为准）"),
                _field("registered_capital", "Y", None, "注册资本（金额与 ISO 4217 币种）"),
                _field("business_scope", "M", None, "经营范围"),
                _field("status_reason", "C", 500, "登记状态变更原因"),
                _field("status_effective_on", "D", 8, "登记状态变更生效日期"),
                _field("operating_until", "D", 8, "营业期限至（空为长期）"),
            ],
        },
    ]


#: The registry's own client of the platform, in its owning department (the mesh creates it: ``seed_platform``).
CLIENT = RegistryClient("amr-legal-entity", "法人库法定代表人核验系统")
#: What the registry reads of ``population.person``: the key and whether the person is deceased; nothing else.
REPRESENTATIVE_SHARE = ShareRequest(
    resource=PERSON_RESOURCE,
    fields=("id_number", "deceased"),
    purpose=REPRESENTATIVE_CHECK_PURPOSE,
    legal_basis="《中华人民共和国市场主体登记管理条例》第十二条：法定代表人应为完全民事行为能力人（核验其身份与存活状态）",
)

#: Synthetic entities the demo mesh registers, in imports of ``ENTITIES_PER_IMPORT`` rows, represented by this
#: many of population-db's seeded persons.
DEMO_ENTITIES = 1000
ENTITIES_PER_IMPORT = 500
DEMO_REPRESENTATIVES = 400


def living_adults(read: PlatformReader, wanted: int, *, today: date) -> list[str]:
    """ID numbers of up to ``wanted`` living adults of population-db, read through the gateway under the grant."""
    found: list[str] = []
    cursor: str | None = None
    while len(found) < wanted:
        params = {"limit": "200", **({"cursor": cursor} if cursor is not None else {})}
        page = read(PERSONS_PATH, purpose=REPRESENTATIVE_CHECK_PURPOSE, params=params)
        for person in page["items"]:
            born = embedded_birth_date(person["id_number"])
            if person.get("deceased") is False and born is not None and adult_on(born, today):
                found.append(person["id_number"])
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    return found[:wanted]


def demo_imports(seed: int, read: PlatformReader) -> Iterator[DemoBatch]:
    """The demo mesh's synthetic entities, as bulk imports (CSV), represented by seeded living adults."""
    representatives = living_adults(read, DEMO_REPRESENTATIVES, today=date.today())
    factory = EntityFactory(seed, representatives)
    for start in range(0, DEMO_ENTITIES, ENTITIES_PER_IMPORT):
        batch = list(factory.entities(min(ENTITIES_PER_IMPORT, DEMO_ENTITIES - start)))
        yield DemoBatch("/v1/imports", b"".join(to_csv(batch)), "text/csv", len(batch))


REGISTRY = Registry(
    service="legal-entity",
    owner="amr",
    resources=resources,
    platform_demo=demo_imports,
    demo_records=DEMO_ENTITIES,
    seeded_probe="/v1/entities",
    client=CLIENT,
    share_requests=(REPRESENTATIVE_SHARE,),
    subscriptions=(PERSON_RESOURCE,),
)
"""The legal-entity registry, as the platform finds it (entry point ``onesource.registries``)."""
