"""Synthetic entities for the local mesh and the benchmarks: seeded, valid, and plausible-looking.

Every generated record passes the registry's rules: USCCs with correct GB 32100 and GB 11714 check characters, from
registration departments and categories across GB 32100's table, each with an entity type of its category; real
GB/T 2260 divisions in force; real GB/T 4754-2017 classes fitting the kind of entity; capital in CNY. Legal
representatives are the ID numbers handed in: the demo mesh reads them from population-db's seeded persons through
the gateway (``directory.py``), so each entity is represented by a registered, living adult. Nothing here is real.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any, Final

from onesource.legal_entity.entities.schemas import IMPORT_COLUMNS
from onesource.standards.divisions import Division, Level, division, divisions
from onesource.standards.entity_types import COMPANY_REGISTRATION, entity_types
from onesource.standards.industries import IndustryLevel, industries
from onesource.standards.uscc import ALPHABET, check_character, organisation_code_check_character

#: The day the demo data is as of (dates of establishment end here).
AS_OF: Final = date(2025, 12, 31)
#: Provinces whose divisions the demo entities are spread over.
PROVINCES: Final = ("11", "31", "32", "33", "44", "51", "41", "42")


@dataclass(frozen=True)
class Kind:
    """A kind of entity the demo makes: its USCC department and category, types, names, industries, authority."""

    department: str
    category: str
    weight: int
    names: tuple[str, ...]
    """Name templates: ``{city}`` (without 市), ``{county}``, ``{place}`` (province, city, county), ``{brand}``."""
    industries: tuple[str, ...]
    """Prefixes of the GB/T 4754-2017 classes it may have (a section's divisions, a division, a group)."""
    authority: str
    """The registering authority, after the city's name."""
    capital: tuple[int, int] | None
    """Range of registered capital in yuan, or ``None`` for none."""


KINDS: Final = (
    Kind(
        "9",
        "1",
        60,
        (
            "{city}{brand}科技有限公司",
            "{city}{brand}贸易有限公司",
            "{city}{brand}建设工程有限公司",
            "{city}{brand}物流有限公司",
            "{city}{brand}食品有限公司",
            "{city}{brand}信息技术有限公司",
            "{city}{brand}文化传媒有限公司",
        ),
        ("1", "2", "3", "4", "5", "6", "7"),
        "市场监督管理局",
        (100_000, 50_000_000),
    ),
    Kind(
        "9",
        "2",
        15,
        ("{county}{brand}便利店", "{county}{brand}小吃店", "{county}{brand}五金店", "{county}{brand}理发店"),
        ("52", "62", "80"),
        "市场监督管理局",
        (10_000, 500_000),
    ),
    Kind(
        "9",
        "3",
        5,
        ("{county}{brand}种植专业合作社", "{county}{brand}养殖专业合作社"),
        ("01", "03", "05"),
        "市场监督管理局",
        (50_000, 2_000_000),
    ),
    Kind("1", "1", 2, ("{place}发展和改革委员会", "{place}教育局"), ("922",), "机构编制委员会办公室", None),
    Kind(
        "1",
        "2",
        5,
        ("{place}第一中学", "{place}人民医院", "{place}图书馆"),
        ("833", "841", "8831"),
        "机构编制委员会办公室",
        (1_000_000, 100_000_000),
    ),
    Kind("5", "1", 3, ("{city}摄影家协会", "{city}{brand}企业家协会"), ("952",), "民政局", (30_000, 100_000)),
    Kind(
        "5",
        "2",
        3,
        ("{city}{brand}养老服务中心", "{city}{brand}职业技能培训学校"),
        ("851", "839"),
        "民政局",
        (30_000, 1_000_000),
    ),
    Kind("5", "3", 1, ("{city}{brand}助学基金会",), ("9522",), "民政局", (2_000_000, 20_000_000)),
    Kind("3", "1", 2, ("{city}{brand}律师事务所",), ("7231",), "司法局", None),
    Kind("8", "1", 1, ("{city}{brand}实业有限公司工会委员会",), ("951",), "总工会", None),
    Kind("N", "2", 2, ("{county}{brand}村股份经济合作社",), ("01", "02"), "农业农村局", None),
    Kind("Y", "1", 1, ("{city}{brand}服务中心",), ("80",), "人民政府", None),
)

BRANDS: Final = tuple(
    "恒泰 华信 东方 金诚 瑞丰 宏达 鑫源 嘉禾 博远 中科 天成 新锐 汇通 盛世 远航 正大 同心 安和 德润 永安 兴业 长青 "
    "启明 聚力 万达 融通 星河 海纳 锦程 润泽".split()
)
STREETS: Final = tuple("人民路 解放路 中山路 建设路 和平路 文化路 新华街 长江路 黄河路 光明街 朝阳路 幸福路".split())
COMPANY_TYPES: Final = tuple(
    code for code, kind in entity_types().items() if (kind.department, kind.category) == COMPANY_REGISTRATION
)
#: Enterprises that are not limited-liability companies: joint-stock companies (12xx) and the rest (typed 91).
JOINT_STOCK_NAMES: Final = ("{city}{brand}实业股份有限公司", "{city}{brand}科技股份有限公司")
OTHER_ENTERPRISE_NAMES: Final = (
    "{city}{brand}商贸中心（普通合伙）",
    "{city}{brand}投资中心（有限合伙）",
    "{city}{brand}食品厂",
)
#: Characters of post-2015 organisation codes after their ``MA`` prefix: the USCC alphabet (no I O Z S V).
_NEWER_BODY: Final = ALPHABET


@cache
def _counties() -> tuple[Division, ...]:
    return tuple(
        county for county in divisions(AS_OF, level=Level.COUNTY) if county.code[:2] in PROVINCES and county.parent
    )


@cache
def _classes(prefix: str) -> tuple[str, ...]:
    return tuple(
        code for code, entry in industries().items() if entry.level is IndustryLevel.CLASS and code.startswith(prefix)
    )


@dataclass(frozen=True)
class _Place:
    city: str
    """The prefecture-level city (or province, for counties directly under one), in full: ``杭州市``."""
    county: str
    """The county's own name: ``西湖区``."""
    full: str
    """Province, city and county: ``浙江省杭州市西湖区`` (``北京市东城区`` for a municipality)."""


def _place(county: Division) -> _Place:
    parent = division(county.parent or "", AS_OF)
    province = division(county.code[:2] + "0000", AS_OF)
    city = parent.name if parent is not None else county.name
    full = "".join(dict.fromkeys(part.name for part in (province, parent, county) if part is not None))
    return _Place(city, county.name, full)


class EntityFactory:
    """Generates valid entities deterministically from ``seed``, represented by ``representatives``.

    Never the same USCC twice.
    """

    def __init__(self, seed: int, representatives: Sequence[str]) -> None:
        if not representatives:
            raise ValueError("entities need legal representatives: hand in some registered, living adults")
        self.random = random.Random(seed)
        self.representatives = list(representatives)
        self._issued: set[str] = set()
        self._weights = [kind.weight for kind in KINDS]

    def _organisation_code(self, established: date) -> str:
        pick = self.random.choice
        if established.year >= 2016:  # codes assigned with the USCC since 2015 start MA…
            body = "MA" + "".join(pick(_NEWER_BODY) for _ in range(6))
        else:
            body = "".join(pick("0123456789") for _ in range(8))
        return body + organisation_code_check_character(body)

    def uscc(self, kind: Kind, region: str, established: date) -> str:
        """A fresh USCC of ``kind`` registered in ``region`` (GB 32100 and GB 11714 check characters right)."""
        while True:
            first17 = kind.department + kind.category + region + self._organisation_code(established)
            code = first17 + check_character(first17)
            if code not in self._issued:
                self._issued.add(code)
                return code

    def entity(self) -> dict[str, Any]:
        """One entity, JSON-ready (the shape ``POST /v1/entities`` and NDJSON imports take)."""
        pick = self.random.choice
        kind = self.random.choices(KINDS, weights=self._weights)[0]
        county = pick(_counties())
        place = _place(county)
        established = AS_OF - timedelta(days=self.random.randint(30, 35 * 365))
        names, entity_type = kind.names, kind.department + kind.category
        if (kind.department, kind.category) == COMPANY_REGISTRATION:
            form = self.random.random()
            if form < 0.7:
                entity_type = pick([code for code in COMPANY_TYPES if code.startswith("11")])
            elif form < 0.8:
                names, entity_type = JOINT_STOCK_NAMES, pick([code for code in COMPANY_TYPES if code.startswith("12")])
            else:
                names = OTHER_ENTERPRISE_NAMES
        short_city = place.city.removesuffix("市")
        name = pick(names).format(city=short_city, county=place.county, place=place.full, brand=pick(BRANDS))
        industry = pick(_classes(pick(kind.industries)))
        capital = None
        if kind.capital is not None:
            low, high = kind.capital
            capital = {"amount": f"{self.random.randrange(low, high, 1000)}.00", "currency": "CNY"}
        return {
            "uscc": self.uscc(kind, county.code, established),
            "name": name,
            "former_names": [],
            "entity_type": entity_type,
            "legal_representative_id": pick(self.representatives),
            "established_on": established.isoformat(),
            "registered_capital": capital,
            "business_scope": f"{industries()[industry].name}（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
            "registration_authority": f"{place.city}{kind.authority}",
            "region_code": county.code,
            "industry_code": industry,
            "address": f"{place.full}{pick(STREETS)}{self.random.randint(1, 300)}号",
            "operating_until": None
            if self.random.random() < 0.7
            else (established + timedelta(days=365 * pick((20, 30, 50)))).isoformat(),
        }

    def entities(self, count: int) -> Iterator[dict[str, Any]]:
        """``count`` entities."""
        for _ in range(count):
            yield self.entity()


def to_ndjson(entities: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """NDJSON lines of ``entities`` (an import body)."""
    for entity in entities:
        yield (json.dumps(entity, ensure_ascii=False) + "\n").encode()


def to_csv(entities: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """CSV of ``entities`` with a header row (an import body): former names joined by semicolons, capital in two."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(IMPORT_COLUMNS)
    for entity in entities:
        capital = entity.get("registered_capital") or {}
        row = {
            **entity,
            "former_names": ";".join(entity.get("former_names", [])),
            "registered_capital_amount": capital.get("amount"),
            "registered_capital_currency": capital.get("currency"),
        }
        writer.writerow(["" if row.get(column) is None else row[column] for column in IMPORT_COLUMNS])
        if buffer.tell() > 65536:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
