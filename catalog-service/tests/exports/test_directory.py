"""The national directory form (政务信息资源目录编制指南 core metadata): every element, checked against its resource."""

from __future__ import annotations

import csv
import io
from typing import Any

from onesource.catalog.exports.service import CSV_COLUMNS

#: The test departments as the gateway announced them (see the catalog's conftest).
DEPARTMENTS = {
    "public-security": ("公安局", "11110000000011017C"),
    "market-regulation": ("市场监督管理局", "111100000000110257"),
}
CATEGORY = {"base": ("1", "基础信息资源"), "theme": ("2", "主题信息资源"), "department": ("3", "部门信息资源")}
SHARE = {"unconditional": "无条件共享", "conditional": "有条件共享", "not_shared": "不予共享"}
CYCLE = {"realtime": "实时", "daily": "每日", "semiannual": "每半年", "annual": "每年"}
DATA_TYPES = {"C": "字符型", "D": "日期型", "I": "整型", "N": "数值型"}


def _expected(resource: dict[str, Any], codes: dict[str, str]) -> dict[str, Any]:
    """The form's entry for ``resource``, written from the guide's element list."""
    name, uscc = DEPARTMENTS[resource["provider"]]
    condition = {"conditional": resource["share_condition"], "not_shared": resource["legal_basis"]}.get(
        resource["share_type"]
    )
    method = {"共享方式分类": "共享平台方式", "共享方式类型": "接口"}
    if resource["service"] is None:
        method["共享方式类型"] = {"database": "数据库", "file/xlsx": "文件"}[resource["format"]]
    format_class = {"api/json": "自描述格式", "database": "数据库", "file/xlsx": "电子表格"}[resource["format"]]
    sources = {field["source_element"] for field in resource["fields"] if field["source_element"]}
    return {
        "信息资源分类": {"类": CATEGORY[resource["category"]][0], "名称": CATEGORY[resource["category"]][1]},
        "信息资源名称": resource["name"],
        "信息资源代码": resource["code"],
        "信息资源提供方": name,
        "信息资源提供方代码": uscc,
        "信息资源摘要": resource["summary"],
        "信息资源格式": {"格式分类": format_class, "格式类型": resource["format"].rsplit("/", 1)[-1]},
        "信息项信息": [
            {
                "信息项名称": field["name"],
                "数据类型": field["data_type"],
                "数据类型名称": DATA_TYPES[field["data_type"]],
                "数据长度": field["length"],
                "数据元": field["element"],
                "信息项描述": field["description"],
                "是否权威来源": "是" if field["authoritative"] else "否",
                "来源数据元": field["source_element"],
            }
            for field in resource["fields"]
        ],
        "共享属性": {"共享类型": SHARE[resource["share_type"]], "共享条件": condition, "共享方式": method},
        "开放属性": {
            "是否向社会开放": "是" if resource["open_to_public"] else "否",
            "开放条件": resource["open_condition"],
        },
        "更新周期": CYCLE[resource["update_cycle"]],
        "发布日期": resource["published_at"][:10],
        "关联资源代码": sorted(codes[element] for element in sources if element in codes),
        "资源标识": resource["id"],
        "提供方简码": resource["provider"],
    }


async def _all_pages(client, headers: dict[str, str], limit: int) -> tuple[list[dict[str, Any]], int]:
    entries: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    pages = 0
    while True:
        response = await client.get("/v1/exports/directory", params=params, headers=headers)
        assert response.status_code == 200, response.text
        pages += 1
        entries.extend(response.json()["items"])
        if response.json()["next_cursor"] is None:
            return entries, pages
        params = {"limit": limit, "cursor": response.json()["next_cursor"]}


async def test_every_element_of_the_form_comes_from_its_resource(client, directory, coordinator, consumer) -> None:
    entries, pages = await _all_pages(client, consumer, limit=3)
    assert pages == 2
    assert [entry["资源标识"] for entry in entries] == sorted(entry["资源标识"] for entry in entries)
    assert "population.draft" not in {entry["资源标识"] for entry in entries}
    resources = {}
    for entry in entries:
        response = await client.get(f"/v1/resources/{entry['资源标识']}", headers=coordinator)
        resources[entry["资源标识"]] = response.json()
    assert set(resources) == {
        "population.person",
        "legal-entity.company",
        "population.criminal-record",
        "legal-entity.open-register",
    }
    # 关联资源代码: the published resource holding the authoritative source of a copied element.
    owners = {"person.name": resources["population.person"]["code"]}
    for entry in entries:
        assert entry == _expected(resources[entry["资源标识"]], owners), entry["资源标识"]
    assert {entry["资源标识"]: entry["关联资源代码"] for entry in entries}["legal-entity.company"] == ["1/000001"]


async def test_the_csv_holds_the_same_elements_one_row_per_item(client, directory, consumer) -> None:
    entries, _ = await _all_pages(client, consumer, limit=200)
    response = await client.get("/v1/exports/directory.csv", headers=consumer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    expected = [
        {
            "信息资源分类代码": entry["信息资源分类"]["类"],
            "信息资源分类": entry["信息资源分类"]["名称"],
            "信息资源名称": entry["信息资源名称"],
            "信息资源代码": entry["信息资源代码"],
            "信息资源提供方": entry["信息资源提供方"],
            "信息资源提供方代码": entry["信息资源提供方代码"],
            "信息资源摘要": entry["信息资源摘要"],
            "信息资源格式分类": entry["信息资源格式"]["格式分类"],
            "信息资源格式类型": entry["信息资源格式"]["格式类型"],
            "信息项名称": item["信息项名称"],
            "数据类型": item["数据类型"],
            "数据长度": "" if item["数据长度"] is None else str(item["数据长度"]),
            "共享类型": entry["共享属性"]["共享类型"],
            "共享条件": entry["共享属性"]["共享条件"] or "",
            "共享方式分类": entry["共享属性"]["共享方式"]["共享方式分类"],
            "共享方式类型": entry["共享属性"]["共享方式"]["共享方式类型"] or "",
            "是否向社会开放": entry["开放属性"]["是否向社会开放"],
            "开放条件": entry["开放属性"]["开放条件"] or "",
            "更新周期": entry["更新周期"],
            "发布日期": entry["发布日期"],
            "关联资源代码": ";".join(entry["关联资源代码"]),
            "资源标识": entry["资源标识"],
            "数据元": item["数据元"],
            "是否权威来源": item["是否权威来源"],
            "来源数据元": item["来源数据元"] or "",
        }
        for entry in entries
        for item in entry["信息项信息"]
    ]
    assert rows == expected


async def test_the_exports_need_a_token(client) -> None:
    assert (await client.get("/v1/exports/directory")).status_code == 401
    assert (await client.get("/v1/exports/directory.csv")).status_code == 401
