from __future__ import annotations

from typing import Any

ACCESS_RIGHT = "http://publications.europa.eu/resource/authority/access-right/"
MANDATORY = {
    "dcat:Catalog": ("dct:title", "dct:description", "dct:publisher", "dcat:dataset"),
    "dcat:Dataset": ("dct:title", "dct:description", "dct:identifier", "dct:publisher", "dct:accessRights"),
    "dcat:Distribution": ("dcat:accessURL",),
    "dcat:DataService": ("dct:title", "dcat:endpointURL"),
}


def _nodes(document: Any) -> list[dict[str, Any]]:
    """Every JSON-LD node object with a ``@type`` anywhere in the document."""
    found: list[dict[str, Any]] = []
    if isinstance(document, dict):
        if "@type" in document:
            found.append(document)
        for value in document.values():
            found.extend(_nodes(value))
    elif isinstance(document, list):
        for value in document:
            found.extend(_nodes(value))
    return found


def _present(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value.get("@id") or value.get("@value"))
    if isinstance(value, list):
        return bool(value) and all(_present(item) for item in value)
    return isinstance(value, str) and bool(value.strip())


def assert_dcat_ap(document: dict[str, Any]) -> None:
    """DCAT-AP 3.0 mandatory properties of every node; IRIs absolute; references resolve inside the document."""
    assert document["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    assert document["@context"]["dct"] == "http://purl.org/dc/terms/"
    nodes = _nodes(document)
    for node in nodes:
        for prop in MANDATORY.get(node["@type"], ()):
            assert prop in node, f"{node['@type']} {node.get('@id')} lacks {prop}"
            assert _present(node[prop]), f"{node['@type']} {node.get('@id')} has an empty {prop}"
        if node["@type"] in MANDATORY:
            assert node["@id"].startswith("https://"), node["@id"]
    ids = {node["@id"] for node in nodes if "@id" in node}
    for node in nodes:
        if node["@type"] == "dcat:DataService":
            for served in node.get("dcat:servesDataset", []):
                assert served["@id"] in ids
        if node["@type"] == "dcat:Distribution" and "dcat:accessService" in node:
            assert node["dcat:accessService"]["@id"] in ids


async def test_dcat_export_of_the_published_directory(
    client, catalog, police_steward, market_steward, consumer, person, company
) -> None:
    await catalog.published(person(), police_steward)
    await catalog.published(company(), market_steward)
    await catalog.published(
        person(
            id="population.criminal-record",
            name="违法犯罪记录",
            summary="不予共享的记录",
            share_type="not_shared",
            legal_basis="《治安管理处罚法》",
            service=None,
            paths=[],
            fields=[{"name": "case_id", "element": "case.id", "data_type": "C", "length": 30, "authoritative": True}],
            key="case_id",
        ),
        police_steward,
    )
    draft_fields = [{"name": "x", "element": "draft.x", "data_type": "I", "authoritative": True}]
    await catalog.create(person(id="population.draft", fields=draft_fields, key="x"), police_steward)

    response = await client.get("/v1/exports/dcat", headers=consumer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    document = response.json()
    assert_dcat_ap(document)
    assert document["@type"] == "dcat:Catalog"
    datasets = {dataset["dct:identifier"]: dataset for dataset in document["dcat:dataset"]}
    assert set(datasets) == {"legal-entity.company", "population.criminal-record", "population.person"}
    assert datasets["population.person"]["dct:accessRights"] == {"@id": ACCESS_RIGHT + "PUBLIC"}
    assert datasets["legal-entity.company"]["dct:accessRights"] == {"@id": ACCESS_RIGHT + "RESTRICTED"}
    assert datasets["population.criminal-record"]["dct:accessRights"] == {"@id": ACCESS_RIGHT + "NON_PUBLIC"}
    person_dataset = datasets["population.person"]
    assert person_dataset["@id"] == "https://onesource.example.gov.cn/api/catalog/v1/resources/population.person"
    assert person_dataset["dct:title"] == {"@value": "人口基础信息", "@language": "zh"}
    assert person_dataset["dct:publisher"]["foaf:name"] == "public-security"
    assert person_dataset["adms:identifier"]["skos:notation"] == "1/000001"
    assert person_dataset["dct:accrualPeriodicity"]["@id"].endswith("/frequency/UPDATE_CONT")
    [distribution] = person_dataset["dcat:distribution"]
    assert distribution["dcat:accessURL"] == {"@id": "https://onesource.example.gov.cn/api/population"}
    services = {service["@id"]: service for service in document["dcat:service"]}
    assert set(services) == {
        "https://onesource.example.gov.cn/api/population",
        "https://onesource.example.gov.cn/api/legal-entity",
    }
    assert services["https://onesource.example.gov.cn/api/population"]["dcat:servesDataset"] == [
        {"@id": person_dataset["@id"]}
    ]


async def test_dcat_export_of_an_empty_directory_is_still_valid(client, consumer) -> None:
    document = (await client.get("/v1/exports/dcat", headers=consumer)).json()
    assert document["dcat:dataset"] == []
    for prop in ("dct:title", "dct:description", "dct:publisher"):
        assert _present(document[prop])


async def test_directory_form_with_chinese_labels(
    client, catalog, police_steward, market_steward, consumer, person, company
) -> None:
    published = await catalog.published(person(), police_steward)
    await catalog.published(company(), market_steward)
    response = await client.get("/v1/exports/directory", params={"limit": "1"}, headers=consumer)
    assert response.status_code == 200, response.text
    page = response.json()
    [entry] = page["items"]
    assert entry["信息资源名称"] == "法人单位基础信息"
    assert entry["共享属性"] == {
        "共享类型": "有条件共享",
        "共享条件": "仅用于行政审批与监管",
        "不予共享依据": None,
        "共享方式": "接口",
    }
    rest = (await client.get("/v1/exports/directory", params={"cursor": page["next_cursor"]}, headers=consumer)).json()
    [entry] = rest["items"]
    assert rest["next_cursor"] is None
    assert entry["信息资源分类"] == "基础信息资源"
    assert entry["信息资源名称"] == "人口基础信息"
    assert entry["信息资源代码"] == "1/000001"
    assert entry["资源标识"] == "population.person"
    assert entry["信息资源提供方"] == "public-security"
    assert entry["信息资源摘要"].startswith("全市户籍人口")
    assert entry["信息资源格式"] == "api/json"
    assert entry["更新周期"] == "实时"
    assert entry["发布日期"] == published["published_at"][:10]
    assert entry["开放属性"] == {"是否向社会开放": "否", "开放条件": None}
    assert entry["信息项信息"][0] == {
        "信息项名称": "id_number",
        "数据元": "person.id_number",
        "数据类型": "C",
        "数据长度": 18,
        "信息项描述": "公民身份号码",
        "是否权威来源": "是",
        "来源数据元": None,
    }
