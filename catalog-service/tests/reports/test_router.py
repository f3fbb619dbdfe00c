from __future__ import annotations

from typing import Any

REPORT = "/v1/reports/re-collection"


async def _directory(catalog: Any, police_steward: Any, market_steward: Any, person: Any, company: Any) -> None:
    await catalog.published(person(), police_steward)
    await catalog.published(company(), market_steward)
    await catalog.published(
        person(
            id="population.marriage",
            name="婚姻登记信息",
            summary="婚姻登记",
            fields=[
                {"name": "id_number", "element": "person.id_number", "data_type": "C", "length": 18,
                 "source_element": "person.id_number"},
                {"name": "spouse_employer", "element": "marriage.spouse_employer", "data_type": "C", "length": 200,
                 "source_element": "entity.name"},
            ],
            key="id_number",
        ),
        police_steward,
    )  # fmt: skip


async def test_coordinators_see_copies_by_department(
    client, catalog, police_steward, market_steward, coordinator, person, company
) -> None:
    await _directory(catalog, police_steward, market_steward, person, company)
    response = await client.get(REPORT, headers=coordinator)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    market, *police = response.json()["items"]
    assert market == {
        "department": "market-regulation",
        "resource": "legal-entity.company",
        "resource_name": "法人单位基础信息",
        "field": "representative_name",
        "element": "entity.representative_name",
        "source_element": "person.name",
        "owner": {
            "element": "person.name",
            "resource": "population.person",
            "field": "name",
            "provider": "public-security",
        },
        "obtainable": True,
    }
    assert [(field["department"], field["field"], field["obtainable"]) for field in police] == [
        ("public-security", "id_number", True),
        ("public-security", "spouse_employer", False),  # nobody publishes entity.name yet
    ]


async def test_the_report_pages_with_cursors(
    client, catalog, police_steward, market_steward, coordinator, person, company
) -> None:
    await _directory(catalog, police_steward, market_steward, person, company)
    seen: list[tuple[str, str, str]] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = (await client.get(REPORT, params=params, headers=coordinator)).json()
        seen.extend((item["department"], item["resource"], item["field"]) for item in page["items"])
        if page["next_cursor"] is None:
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert seen == [
        ("market-regulation", "legal-entity.company", "representative_name"),
        ("public-security", "population.marriage", "id_number"),
        ("public-security", "population.marriage", "spouse_employer"),
    ]
    bad = await client.get(REPORT, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=coordinator)
    assert bad.status_code == 422


async def test_stewards_see_only_their_own_department(
    client, catalog, police_steward, market_steward, consumer, person, company
) -> None:
    await _directory(catalog, police_steward, market_steward, person, company)
    own = await client.get(REPORT, headers=market_steward)
    assert own.status_code == 200
    assert {entry["department"] for entry in own.json()["items"]} == {"market-regulation"}
    other = await client.get(REPORT, params={"department": "public-security"}, headers=market_steward)
    assert other.status_code == 403
    assert (await client.get(REPORT, headers=consumer)).status_code == 403


async def test_drafts_are_not_reported(client, catalog, market_steward, coordinator, company) -> None:
    await catalog.create(company(), market_steward)
    assert (await client.get(REPORT, headers=coordinator)).json() == {"items": [], "next_cursor": None}
