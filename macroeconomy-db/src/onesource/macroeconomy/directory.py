"""The macroeconomy registry's entries in the resource directory (政务信息资源目录), and its demo loads.

Per dataflow two resources cover the same paths: ``macroeconomy.<flow>`` (unconditional: released data, as base
data must be shared) and ``macroeconomy.<flow>-prerelease`` (conditional: the same data before its release, for
departments that prepare a release with the statistics bureau). Their fields are the dataflow's components (lower
case, as catalog field names are), plus ``series_key``. The release calendar is a resource of its own.
Answers of the dataflow resources are SDMX (the ``sdmx`` answer shape: ``onesource.registry.shapes.sdmx``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from onesource.macroeconomy import demo
from onesource.macroeconomy.dataflows.definitions import DATAFLOWS, Component, Dataflow, Role
from onesource.macroeconomy.releases.events import RELEASE_TOPIC, REVISION_TOPIC
from onesource.registry.directory import DemoBatch, Registry
from onesource.registry.shapes.sdmx import CSV_MEDIA_TYPE

SERVICE: Final = "macroeconomy"
#: The catalog format of SDMX answers (the gateway's ``sdmx`` answer shape).
SDMX_FORMAT: Final = "api/sdmx"
RELEASE_CALENDAR: Final = "macroeconomy.release-calendar"


def prerelease_of(resource: str) -> str:
    """The pre-release resource of a dataflow's resource."""
    return f"{resource}-prerelease"


def _data_type(component: Component) -> tuple[str, int | None]:
    if component.role is Role.MEASURE:
        return "F", None
    if component.id == "EMBARGO_TIME":
        return "T", None
    return "C", 16


def _fields(flow: Dataflow, *, authoritative: bool) -> list[dict[str, Any]]:
    element_base = f"macroeconomy.{flow.id.lower()}"
    fields = []
    for component in (
        *flow.structure.dimensions,
        flow.structure.time_dimension,
        *flow.structure.measures,
        *flow.structure.attributes,
    ):
        data_type, length = _data_type(component)
        fields.append(
            {
                "name": component.id.lower(),
                "element": f"{element_base}.{component.id.lower()}",
                "data_type": data_type,
                "length": length,
                "description": f"{component.name}（SDMX {component.id}）",
            }
        )
    fields.append(
        {
            "name": "series_key",
            "element": f"{element_base}.series_key",
            "data_type": "C",
            "length": 256,
            "description": "序列键：各维度取值按结构顺序以点号连接（如 Q.330000.GDP.CUR）",
        }
    )
    for field in fields:
        if authoritative:
            field["authoritative"] = True
        else:
            field["authoritative"] = False
            field["source_element"] = field["element"]
            field["element"] = str(field["element"]).replace("macroeconomy.", "macroeconomy.prerelease.", 1)
    return fields


def _paths(flow: Dataflow) -> list[str]:
    return [f"/v1/data/{flow.id}/{{key}}", f"/v1/data/{flow.id}", f"/v1/structure/dataflow/{flow.id}"]


def resources(provider: str) -> list[dict[str, Any]]:
    """The registry's resources as ``POST /v1/resources`` bodies, provided by department ``provider``."""
    found: list[dict[str, Any]] = []
    for flow in DATAFLOWS.values():
        common = {
            "category": "base",
            "format": SDMX_FORMAT,
            "update_cycle": flow.update_cycle,
            "service": SERVICE,
            "paths": _paths(flow),
            "key": "series_key",
            "topic": REVISION_TOPIC,
            "provider": provider,
        }
        found.append(
            {
                **common,
                "id": flow.resource,
                "name": flow.name,
                "summary": f"{flow.description}已发布数据，无条件共享（SDMX 数据流 {flow.id}）。",
                "share_type": "unconditional",
                "fields": _fields(flow, authoritative=True),
            }
        )
        found.append(
            {
                **common,
                "id": prerelease_of(flow.resource),
                "name": f"{flow.name}（发布前）",
                "summary": f"{flow.name}在发布时间之前的数据（禁发期内），仅供参与发布准备的部门。",
                "share_type": "conditional",
                "share_condition": "仅限参与数据发布准备的部门，须说明用途，禁发期内不得对外公开，经统计局审核后共享。",
                "fields": _fields(flow, authoritative=False),
            }
        )
    found.append(
        {
            "id": RELEASE_CALENDAR,
            "name": "宏观经济数据发布日程",
            "summary": "各数据流已发布和即将发布的数据版本及发布时间。",
            "provider": provider,
            "category": "base",
            "format": "api/json",
            "update_cycle": "realtime",
            "share_type": "unconditional",
            "service": SERVICE,
            "paths": ["/v1/releases"],
            "key": "vintage",
            "topic": RELEASE_TOPIC,
            "fields": [
                {"name": name, "element": f"macroeconomy.release.{name}", "data_type": data_type,
                 "length": length, "description": description, "authoritative": True}
                for name, data_type, length, description in (
                    ("flow", "C", 64, "数据流"),
                    ("vintage", "I", None, "数据版本号"),
                    ("release_at", "T", None, "发布时间"),
                    ("status", "C", 16, "状态（scheduled 待发布 / released 已发布）"),
                    ("released_at", "T", None, "实际发布时间"),
                    ("loaded_at", "T", None, "入库时间"),
                    ("series_count", "I", None, "序列数"),
                    ("observation_count", "I", None, "观测值数"),
                    ("revised_count", "I", None, "修订的观测值数"),
                )
            ],
        }
    )  # fmt: skip
    return found


def _batch(flow: str, rows: list[demo.DemoRow], release_at: datetime | None = None) -> DemoBatch:
    path = f"/v1/dataflows/{flow}/loads"
    if release_at is not None:
        path += "?release_at=" + release_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return DemoBatch(path, demo.to_csv(flow, rows), CSV_MEDIA_TYPE, len(rows))


def demo_loads(seed: int) -> Iterator[DemoBatch]:
    """The demo's vintages: GDP history, this year, a revision of last year, an embargoed preliminary quarter; CPI."""
    periods = list(demo.quarters(demo.START_YEAR, demo.END_YEAR))
    every = list(demo.gdp_rows(seed, periods))
    last_year = f"{demo.END_YEAR - 1}-"
    this_year = f"{demo.END_YEAR}-"
    coming = f"{demo.END_YEAR}-Q4"
    yield _batch("GDP_Q", [row for row in every if row.period < last_year + "Q1" or row.period.startswith(last_year)])
    yield _batch("GDP_Q", [row for row in every if row.period.startswith(this_year) and row.period != coming])
    yield _batch("GDP_Q", list(demo.revised((row for row in every if row.period.startswith(last_year)), seed)))
    coming_rows = list(demo.provisional(row for row in every if row.period == coming))
    yield _batch("GDP_Q", coming_rows, datetime.now(UTC) + timedelta(days=30))
    yield _batch("CPI_M", list(demo.cpi_rows(seed, list(demo.months(demo.START_YEAR, demo.END_YEAR)))))


def _demo_records() -> int:
    quarters = len(list(demo.quarters(demo.START_YEAR, demo.END_YEAR)))
    provinces = len(demo.PROVINCES)
    gdp = provinces * (quarters * len(demo.GDP_INDICATORS) + quarters - 4)
    revision = provinces * 4 * (len(demo.GDP_INDICATORS) + 1)
    cpi = provinces * 3 * 12 * (demo.END_YEAR - demo.START_YEAR + 1)
    return gdp + revision + cpi


REGISTRY = Registry(
    service=SERVICE,
    owner="stats",
    resources=resources,
    demo=demo_loads,
    demo_records=_demo_records(),
    seeded_probe="/v1/releases",
)
"""The macroeconomy registry, as the platform finds it (entry point ``onesource.registries``)."""
