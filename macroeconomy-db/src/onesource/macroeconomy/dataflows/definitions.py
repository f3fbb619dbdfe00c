"""The registry's structural metadata (SDMX 3.0 information model): agency, code lists, DSDs and dataflows.

Declared here, beside the code that checks data against them, and answered as SDMX-JSON 2.0 structure messages
(``dataflows.service``). Code lists are enumerations of codes with Chinese names, except ``CL_AREA``: its codes are
the GB/T 2260 divisions of the shared standards (``onesource.standards.divisions``), valid by date, never copied.

Component ids follow the SDMX cross-domain concepts (SDMX Content-Oriented Guidelines, 2018: ``FREQ``,
``REF_AREA``, ``TIME_PERIOD``, ``OBS_VALUE``, ``OBS_STATUS``, ``UNIT_MEASURE``, ``UNIT_MULT``, ``DECIMALS``,
``EMBARGO_TIME``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

AGENCY_ID: Final = "CN_STATS"
AGENCY_NAME: Final = "统计局"
VERSION: Final = "1.0.0"
#: The code list whose codes are GB/T 2260 divisions (checked by date, named from the shared standards).
AREA_CODELIST: Final = "CL_AREA"


class Role(StrEnum):
    """What a component is in its data structure."""

    DIMENSION = "dimension"
    TIME_DIMENSION = "time_dimension"
    MEASURE = "measure"
    ATTRIBUTE = "attribute"


class Attachment(StrEnum):
    """Where an attribute's values attach (SDMX 3.0 attribute relationship)."""

    SERIES = "series"
    """To the series: the same value for every observation of a series key (``dimensions`` relationship)."""
    OBSERVATION = "observation"
    """To each observation."""


@dataclass(frozen=True, slots=True)
class Code:
    """One code of a code list."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Codelist:
    """An enumeration of codes (``CL_AREA``'s codes come from GB/T 2260 instead)."""

    id: str
    name: str
    codes: tuple[Code, ...] = ()

    def names(self) -> dict[str, str]:
        """Code → name."""
        return {code.id: code.name for code in self.codes}


@dataclass(frozen=True, slots=True)
class Component:
    """A dimension, the time dimension, a measure or an attribute of a data structure."""

    id: str
    name: str
    role: Role
    codelist: str | None = None
    """The code list enumerating its values; ``None`` for non-coded components."""
    text_type: str = "String"
    """SDMX text type of a non-coded component (``Double``, ``ObservationalTimePeriod``, ``DateTime`` …)."""
    attachment: Attachment | None = None
    """For attributes: series or observation."""
    mandatory: bool = False
    """For attributes: whether every loaded row must give a value."""
    derived: bool = False
    """Set by the registry, never by a load (``EMBARGO_TIME``: the release time of a vintage not yet released)."""


@dataclass(frozen=True, slots=True)
class DataStructure:
    """A data structure definition (DSD)."""

    id: str
    name: str
    components: tuple[Component, ...]

    @property
    def dimensions(self) -> tuple[Component, ...]:
        """The dimensions of the series key, in key order (not the time dimension)."""
        return tuple(component for component in self.components if component.role is Role.DIMENSION)

    @property
    def time_dimension(self) -> Component:
        """``TIME_PERIOD``."""
        return next(component for component in self.components if component.role is Role.TIME_DIMENSION)

    @property
    def measures(self) -> tuple[Component, ...]:
        """The measures (``OBS_VALUE``)."""
        return tuple(component for component in self.components if component.role is Role.MEASURE)

    @property
    def attributes(self) -> tuple[Component, ...]:
        """The attributes, series-level first."""
        attached = [component for component in self.components if component.role is Role.ATTRIBUTE]
        return tuple(sorted(attached, key=lambda component: component.attachment != Attachment.SERIES))

    def series_attributes(self) -> tuple[Component, ...]:
        """Attributes attached to the series."""
        return tuple(a for a in self.attributes if a.attachment is Attachment.SERIES)

    def observation_attributes(self) -> tuple[Component, ...]:
        """Attributes attached to each observation."""
        return tuple(a for a in self.attributes if a.attachment is Attachment.OBSERVATION)

    def component(self, component_id: str) -> Component | None:
        """The component ``component_id``, if the structure has it."""
        return next((component for component in self.components if component.id == component_id), None)


@dataclass(frozen=True, slots=True)
class Dataflow:
    """A dataflow: data of one structure, published together."""

    id: str
    name: str
    description: str
    structure: DataStructure
    resource: str
    """Its catalog resource (``macroeconomy.gdp-q``); the embargoed data's is ``<resource>-prerelease``."""
    frequencies: frozenset[str] = field(default_factory=frozenset)
    """The ``FREQ`` codes its series may have (a content constraint on the code list)."""
    update_cycle: str = "other"
    """Its catalog update cycle."""

    @property
    def urn(self) -> str:
        """SDMX URN of the dataflow."""
        return f"urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow={AGENCY_ID}:{self.id}({VERSION})"

    @property
    def structure_id(self) -> str:
        """``AGENCY:ID(VERSION)``, as SDMX-CSV 2.0's ``STRUCTURE_ID`` column names it."""
        return f"{AGENCY_ID}:{self.id}({VERSION})"


def _codes(*pairs: tuple[str, str]) -> tuple[Code, ...]:
    return tuple(Code(code, name) for code, name in pairs)


CODELISTS: Final[dict[str, Codelist]] = {
    codelist.id: codelist
    for codelist in (
        # SDMX CL_FREQ (cross-domain code list), the frequencies this registry answers periods for.
        Codelist(
            "CL_FREQ",
            "频率",
            _codes(("A", "年度"), ("S", "半年度"), ("Q", "季度"), ("M", "月度"), ("W", "周度"), ("D", "日度")),
        ),
        Codelist(AREA_CODELIST, "行政区划（GB/T 2260）"),
        Codelist(
            "CL_NA_INDICATOR",
            "国民经济核算指标",
            _codes(
                ("GDP", "地区生产总值"),
                ("GDPI", "地区生产总值指数（上年同期=100）"),
                ("VA_PRIMARY", "第一产业增加值"),
                ("VA_SECONDARY", "第二产业增加值"),
                ("VA_TERTIARY", "第三产业增加值"),
            ),
        ),
        Codelist("CL_PRICE_BASIS", "价格口径", _codes(("CUR", "现价"), ("CON", "不变价"), ("IDX", "指数"))),
        Codelist(
            "CL_CPI_INDICATOR",
            "居民消费价格指标",
            _codes(("CPI", "居民消费价格总指数"), ("CPI_FOOD", "食品烟酒类价格指数"), ("CPI_SERV", "服务价格指数")),
        ),
        Codelist("CL_CPI_BASE", "对比基期", _codes(("PY", "上年同期=100"), ("PP", "上期=100"))),
        # SDMX CL_OBS_STATUS (cross-domain), with R for revised values as several agencies' lists have it.
        Codelist(
            "CL_OBS_STATUS",
            "观测值状态",
            _codes(
                ("A", "正常值"),
                ("B", "时间序列中断"),
                ("E", "估计值"),
                ("F", "预测值"),
                ("M", "缺失值（数据不存在）"),
                ("P", "初步核算值"),
                ("R", "修订值"),
            ),
        ),
        Codelist("CL_UNIT", "计量单位", _codes(("CNY", "人民币元"), ("IDX", "指数"), ("PC", "百分比"))),
        Codelist("CL_UNIT_MULT", "单位倍数", _codes(("0", "个"), ("4", "万"), ("8", "亿"))),
        Codelist("CL_DECIMALS", "小数位数", _codes(*((str(n), f"{n}位小数") for n in range(7)))),
    )
}

_SERIES_ATTRIBUTES: Final = (
    Component("UNIT_MEASURE", "计量单位", Role.ATTRIBUTE, "CL_UNIT", attachment=Attachment.SERIES, mandatory=True),
    Component("UNIT_MULT", "单位倍数", Role.ATTRIBUTE, "CL_UNIT_MULT", attachment=Attachment.SERIES, mandatory=True),
    Component("DECIMALS", "小数位数", Role.ATTRIBUTE, "CL_DECIMALS", attachment=Attachment.SERIES, mandatory=True),
)
_OBSERVATION_PART: Final = (
    Component("TIME_PERIOD", "时间", Role.TIME_DIMENSION, text_type="ObservationalTimePeriod"),
    Component("OBS_VALUE", "观测值", Role.MEASURE, text_type="Double"),
    Component("OBS_STATUS", "观测值状态", Role.ATTRIBUTE, "CL_OBS_STATUS", attachment=Attachment.OBSERVATION),
    Component(
        "EMBARGO_TIME",
        "禁发截止时间",
        Role.ATTRIBUTE,
        text_type="DateTime",
        attachment=Attachment.OBSERVATION,
        derived=True,
    ),
)

DSD_NA_REG: Final = DataStructure(
    "DSD_NA_REG",
    "地区国民经济核算",
    (
        Component("FREQ", "频率", Role.DIMENSION, "CL_FREQ"),
        Component("REF_AREA", "地区", Role.DIMENSION, AREA_CODELIST),
        Component("INDICATOR", "指标", Role.DIMENSION, "CL_NA_INDICATOR"),
        Component("PRICE_BASIS", "价格口径", Role.DIMENSION, "CL_PRICE_BASIS"),
        *_OBSERVATION_PART,
        *_SERIES_ATTRIBUTES,
    ),
)

DSD_CPI: Final = DataStructure(
    "DSD_CPI",
    "居民消费价格",
    (
        Component("FREQ", "频率", Role.DIMENSION, "CL_FREQ"),
        Component("REF_AREA", "地区", Role.DIMENSION, AREA_CODELIST),
        Component("INDICATOR", "指标", Role.DIMENSION, "CL_CPI_INDICATOR"),
        Component("BASE_PER", "对比基期", Role.DIMENSION, "CL_CPI_BASE"),
        *_OBSERVATION_PART,
        *_SERIES_ATTRIBUTES,
    ),
)

DATAFLOWS: Final[dict[str, Dataflow]] = {
    flow.id: flow
    for flow in (
        Dataflow(
            "GDP_Q",
            "地区生产总值（季度）",
            "分省地区生产总值及三次产业增加值，季度累计，现价与指数；年度与半年度数据同属本数据流。",
            DSD_NA_REG,
            resource="macroeconomy.gdp-q",
            frequencies=frozenset({"A", "S", "Q"}),
            update_cycle="quarterly",
        ),
        Dataflow(
            "CPI_M",
            "居民消费价格指数（月度）",
            "分省居民消费价格指数，月度；周度与日度的高频价格监测同属本数据流。",
            DSD_CPI,
            resource="macroeconomy.cpi-m",
            frequencies=frozenset({"M", "W", "D"}),
            update_cycle="monthly",
        ),
    )
}
