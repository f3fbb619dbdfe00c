"""The entity endpoints as a registrar and readers use them: register, read, change, status, history, search."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from onesource.legal_entity.entities import repository

PROBLEMS = "https://onesource.gov.cn/problems/"
ENTITIES = "/v1/entities"

Events = Callable[[str], Awaitable[list[dict[str, Any]]]]


def problem(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["type"]).removeprefix(PROBLEMS)


def fields_named(response: httpx.Response) -> set[str]:
    return {param["name"] for param in response.json()["invalid_params"]}


async def registered(client: httpx.AsyncClient, registrar: dict[str, str], entity: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(ENTITIES, json=entity, headers=registrar)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def entity(people: Any, entity_factory: Any) -> dict[str, Any]:
    """A valid entity to register, represented by a living adult registered in population-db."""
    return dict(entity_factory(await people.living()).entity())


async def test_a_registrar_registers_an_entity_and_its_event_carries_the_record(
    client: httpx.AsyncClient, registrar: dict[str, str], entity: dict[str, Any], events: Events
) -> None:
    entity["registered_capital"] = {"amount": "5000000.5", "currency": "CNY"}
    response = await client.post(ENTITIES, json=entity, headers=registrar)
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/v1/entities/{entity['uscc']}"
    body = response.json()
    assert body["status"] == "active"
    assert body["industry_section"] in "ABCDEFGHIJKLMNOPQRST"
    assert body["registered_capital"] == {"amount": "5000000.5", "currency": "CNY"}
    assert body["version"] == 1
    published = await events(entity["uscc"])
    assert [event["type"] for event in published] == ["gov.onesource.legal-entity.entity.registered.v1"]
    record = published[0]["data"]["record"]
    assert record["uscc"] == entity["uscc"]
    assert record["legal_representative_id"] == entity["legal_representative_id"]
    assert "version" not in record


async def test_the_published_codes_of_real_entities_are_accepted(
    client: httpx.AsyncClient, registrar: dict[str, str], entity: dict[str, Any]
) -> None:
    for uscc in ("91110000600037341L", "91310115342050446K", "91410103MA9EYP5H0E"):
        body = await registered(client, registrar, {**entity, "uscc": uscc, "entity_type": "1100"})
        assert body["uscc"] == uscc


async def test_reads_answer_the_owner_and_the_gateway_with_an_etag_and_nobody_else(
    client: httpx.AsyncClient,
    registrar: dict[str, str],
    steward: dict[str, str],
    through_gateway: dict[str, str],
    foreign_consumer: dict[str, str],
    entity: dict[str, Any],
) -> None:
    await registered(client, registrar, entity)
    for caller in (registrar, steward, through_gateway):
        read = await client.get(f"{ENTITIES}/{entity['uscc'].lower()}", headers=caller)
        assert read.status_code == 200, read.text
        assert read.headers["etag"] == '"1"'
        assert read.json()["name"] == entity["name"]
    refused = await client.get(f"{ENTITIES}/{entity['uscc']}", headers=foreign_consumer)
    assert refused.status_code == 403
    missing = await client.get(f"{ENTITIES}/91110000600037341L", headers=registrar)
    assert (missing.status_code, problem(missing)) == (404, "entity-not-found")


async def test_only_the_owners_registrars_write(
    client: httpx.AsyncClient,
    steward: dict[str, str],
    foreign_registrar: dict[str, str],
    through_gateway: dict[str, str],
    entity: dict[str, Any],
) -> None:
    for caller in (steward, foreign_registrar, through_gateway):
        response = await client.post(ENTITIES, json=entity, headers=caller)
        assert response.status_code == 403, response.text


async def test_a_repeat_with_the_same_idempotency_key_answers_the_first_result(
    client: httpx.AsyncClient, registrar: dict[str, str], entity: dict[str, Any], gateway: Any
) -> None:
    headers = {**registrar, "Idempotency-Key": "entity-registration-1"}
    first = await client.post(ENTITIES, json=entity, headers=headers)
    asked = len(gateway.reads)
    again = await client.post(ENTITIES, json=entity, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"] == '"1"'
    assert len(gateway.reads) == asked  # the replay asked population-db nothing
    other = await client.post(ENTITIES, json={**entity, "name": entity["name"] + "二"}, headers=headers)
    assert (other.status_code, problem(other)) == (422, "idempotency-key-reused")
    duplicate = await client.post(ENTITIES, json=entity, headers=registrar)
    assert (duplicate.status_code, problem(duplicate)) == (409, "duplicate-entity")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"uscc": "91110000600037342L"}, "uscc"),  # check character
        ({"uscc": "91110000600037340L"}, "uscc"),  # GB 11714 check of positions 9–17
        ({"uscc": "Z1110000600037341L"}, "uscc"),  # outside the alphabet
        ({"uscc": "94110000600037341L"}, "uscc"),  # 9 has no category 4
        ({"entity_type": "51"}, "entity_type"),  # a social organisation's type for an enterprise's code
        ({"entity_type": "9999"}, "entity_type"),
        ({"industry_code": "9290"}, "industry_code"),  # not a 2017 class
        ({"industry_code": "39"}, "industry_code"),  # a division, not a class
        ({"region_code": "330103"}, "region_code"),  # 下城区, abolished 2021
        ({"region_code": "990101"}, "region_code"),
        ({"registered_capital": {"amount": "-1", "currency": "CNY"}}, "registered_capital"),
        ({"registered_capital": {"amount": "1e6", "currency": "CNY"}}, "registered_capital"),
        ({"registered_capital": {"amount": "10.001", "currency": "CNY"}}, "registered_capital"),
        ({"registered_capital": {"amount": "10", "currency": "RMB"}}, "registered_capital"),
        ({"legal_representative_id": "11010519491231002Y"}, "legal_representative_id"),
        ({"established_on": "2999-01-01"}, "established_on"),
        ({"operating_until": "1990-01-01", "established_on": "2000-01-01"}, "operating_until"),
        ({"address": "北京\x00"}, "address"),
    ],
)
async def test_each_refusal_names_its_field(
    client: httpx.AsyncClient, registrar: dict[str, str], entity: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    response = await client.post(ENTITIES, json={**entity, **change}, headers=registrar)
    assert response.status_code == 422, response.text
    assert f"body.{field}" in fields_named(response)


async def test_a_minor_cannot_be_a_legal_representative(
    client: httpx.AsyncClient, registrar: dict[str, str], entity: dict[str, Any]
) -> None:
    first17 = "11010520150101001"  # born 2015-01-01
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(digit) * weight for digit, weight in zip(first17, weights, strict=True))
    minor = first17 + "10X98765432"[total % 11]
    response = await client.post(ENTITIES, json={**entity, "legal_representative_id": minor}, headers=registrar)
    assert response.status_code == 422
    assert fields_named(response) == {"body.legal_representative_id"}
    assert "under 18" in response.text


async def test_an_unknown_or_deceased_representative_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient,
    registrar: dict[str, str],
    people: Any,
    entity_factory: Any,
    connection: AsyncConnection,
    events: Events,
) -> None:
    factory = entity_factory("11010519491231002X")
    unknown, deceased = people.unknown(), await people.deceased()
    for representative, why in ((unknown, "no person"), (deceased, "deceased")):
        entity = {**factory.entity(), "legal_representative_id": representative}
        response = await client.post(ENTITIES, json=entity, headers=registrar)
        assert (response.status_code, problem(response)) == (422, "invalid-entity"), response.text
        assert fields_named(response) == {"body.legal_representative_id"}
        assert why in response.json()["detail"]
        count = await connection.scalar(text("SELECT count(*) FROM entity WHERE uscc = :u"), {"u": entity["uscc"]})
        assert count == 0
        assert await events(entity["uscc"]) == []


@pytest.mark.parametrize("trouble", ["population_down", "no_grant"])
async def test_when_population_db_cannot_be_asked_the_answer_is_503_never_a_guess(
    client: httpx.AsyncClient,
    registrar: dict[str, str],
    entity: dict[str, Any],
    gateway: Any,
    connection: AsyncConnection,
    trouble: str,
) -> None:
    if trouble == "population_down":
        gateway.population_down = True
    else:
        gateway.granted = False
    response = await client.post(ENTITIES, json=entity, headers=registrar)
    assert (response.status_code, problem(response)) == (503, "dependency-unavailable"), response.text
    assert response.headers["retry-after"]
    assert await connection.scalar(text("SELECT count(*) FROM entity WHERE uscc = :u"), {"u": entity["uscc"]}) == 0


async def test_a_change_needs_if_match_and_the_current_version(
    client: httpx.AsyncClient, registrar: dict[str, str], entity: dict[str, Any]
) -> None:
    await registered(client, registrar, entity)
    url = f"{ENTITIES}/{entity['uscc']}"
    missing = await client.patch(url, json={"address": "新地址1号"}, headers=registrar)
    assert (missing.status_code, problem(missing)) == (428, "precondition-required")
    stale = await client.patch(url, json={"address": "新地址1号"}, headers={**registrar, "If-Match": '"7"'})
    assert (stale.status_code, problem(stale)) == (412, "precondition-failed")


async def test_a_merge_patch_keeps_the_old_name_recomputes_the_section_and_merges_the_capital(
    client: httpx.AsyncClient, registrar: dict[str, str], entity: dict[str, Any], events: Events
) -> None:
    entity = {**entity, "registered_capital": {"amount": "1000000.00", "currency": "CNY"}, "industry_code": "6513"}
    await registered(client, registrar, entity)
    url = f"{ENTITIES}/{entity['uscc']}"
    response = await client.patch(
        url,
        headers={**registrar, "If-Match": '"1"', "Content-Type": "application/merge-patch+json"},
        content=(
            '{"name": "新名称科技有限公司", "industry_code": "3921",'
            ' "registered_capital": {"amount": "2000000.00"}, "operating_until": null}'
        ).encode(),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["etag"] == '"2"'
    assert body["former_names"] == [entity["name"]]
    assert (body["industry_code"], body["industry_section"]) == ("3921", "C")
    assert body["registered_capital"] == {"amount": "2000000.00", "currency": "CNY"}
    updated = (await events(entity["uscc"]))[-1]
    assert updated["type"] == "gov.onesource.legal-entity.entity.updated.v1"
    assert set(updated["data"]["changes"]) >= {"name", "former_names", "industry_code", "industry_section"}
    assert updated["data"]["record"]["name"] == "新名称科技有限公司"
    same = await client.patch(url, json={"name": "新名称科技有限公司"}, headers={**registrar, "If-Match": '"2"'})
    assert same.headers["etag"] == '"2"'  # nothing changed: no version, no event
    assert len(await events(entity["uscc"])) == 2


async def test_a_new_representative_is_checked_like_at_registration(
    client: httpx.AsyncClient, registrar: dict[str, str], entity: dict[str, Any], people: Any
) -> None:
    await registered(client, registrar, entity)
    url = f"{ENTITIES}/{entity['uscc']}"
    deceased = await people.deceased()
    refused = await client.patch(
        url, json={"legal_representative_id": deceased}, headers={**registrar, "If-Match": '"1"'}
    )
    assert refused.status_code == 422
    assert fields_named(refused) == {"body.legal_representative_id"}
    living = await people.living()
    changed = await client.patch(
        url, json={"legal_representative_id": living}, headers={**registrar, "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["legal_representative_id"] == living
    cleared = await client.patch(url, json={"legal_representative_id": None}, headers={**registrar, "If-Match": '"2"'})
    assert cleared.status_code == 422
    type_changed = await client.patch(url, json={"entity_type": "51"}, headers={**registrar, "If-Match": '"2"'})
    assert fields_named(type_changed) == {"body.entity_type"}


async def test_the_status_lifecycle_through_the_api(
    client: httpx.AsyncClient, registrar: dict[str, str], entity: dict[str, Any], events: Events
) -> None:
    await registered(client, registrar, entity)
    url = f"{ENTITIES}/{entity['uscc']}/status"

    async def move(status: str, effective_on: str = "2025-06-01") -> httpx.Response:
        return await client.post(
            url, json={"status": status, "reason": "依法决定", "effective_on": effective_on}, headers=registrar
        )

    for status in ("suspended", "active", "revoked", "deregistered"):
        moved = await move(status)
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status
        assert moved.json()["status_effective_on"] == "2025-06-01"
    refused = await move("active")
    assert (refused.status_code, problem(refused)) == (409, "invalid-status-transition")
    assert refused.json()["current_status"] == "deregistered"
    closed = await client.patch(
        f"{ENTITIES}/{entity['uscc']}", json={"address": "新地址"}, headers={**registrar, "If-Match": '"5"'}
    )
    assert (closed.status_code, problem(closed)) == (409, "entity-closed")
    changed = [event for event in await events(entity["uscc"]) if event["type"].endswith("status-changed.v1")]
    assert [event["data"]["changes"]["status"] for event in changed] == [
        "suspended",
        "active",
        "revoked",
        "deregistered",
    ]
    assert changed[0]["data"]["changes"] == {
        "status": "suspended",
        "status_reason": "依法决定",
        "status_effective_on": "2025-06-01",
    }


#: The lifecycle as DESIGN.md pins it; every other move is 409.
ALLOWED = {
    ("active", "suspended"),
    ("active", "revoked"),
    ("active", "deregistered"),
    ("active", "cancelled"),
    ("active", "moved_out"),
    ("suspended", "active"),
    ("suspended", "deregistered"),
    ("revoked", "deregistered"),
}
STATUSES = ["active", "suspended", "revoked", "deregistered", "cancelled", "moved_out"]


@pytest.mark.parametrize("current", STATUSES)
async def test_every_move_of_the_lifecycle_table_through_the_api(
    client: httpx.AsyncClient, registrar: dict[str, str], people: Any, entity_factory: Any, current: str
) -> None:
    factory = entity_factory(await people.living())
    for to in STATUSES:
        entity = await registered(client, registrar, factory.entity())
        url = f"{ENTITIES}/{entity['uscc']}/status"
        body = {"reason": "依法决定", "effective_on": "2025-06-01"}
        if current != "active":
            reached = await client.post(url, json={**body, "status": current}, headers=registrar)
            assert reached.status_code == 200, reached.text
        moved = await client.post(url, json={**body, "status": to}, headers=registrar)
        if (current, to) in ALLOWED:
            assert moved.status_code == 200, (current, to, moved.text)
            assert moved.json()["status"] == to
        else:
            assert (moved.status_code, problem(moved)) == (409, "invalid-status-transition"), (current, to)


async def test_a_status_change_honours_if_match_and_refuses_impossible_dates(
    client: httpx.AsyncClient, registrar: dict[str, str], entity: dict[str, Any]
) -> None:
    await registered(client, registrar, entity)
    url = f"{ENTITIES}/{entity['uscc']}/status"
    body = {"status": "suspended", "reason": "歇业", "effective_on": "2999-01-01"}
    future = await client.post(url, json=body, headers=registrar)
    assert fields_named(future) == {"body.effective_on"}
    early = await client.post(url, json={**body, "effective_on": "1900-01-01"}, headers=registrar)
    assert fields_named(early) == {"body.effective_on"}
    stale = await client.post(
        url, json={**body, "effective_on": "2025-01-01"}, headers={**registrar, "If-Match": '"3"'}
    )
    assert stale.status_code == 412
    unknown = await client.post(url, json={**body, "status": "dissolved"}, headers=registrar)
    assert unknown.status_code == 422


async def test_history_answers_every_version_with_the_record_then(
    client: httpx.AsyncClient, registrar: dict[str, str], steward: dict[str, str], entity: dict[str, Any]
) -> None:
    await registered(client, registrar, entity)
    url = f"{ENTITIES}/{entity['uscc']}"
    await client.patch(url, json={"address": "第二个地址"}, headers={**registrar, "If-Match": '"1"'})
    await client.post(
        f"{url}/status", json={"status": "suspended", "reason": "歇业", "effective_on": "2025-01-01"}, headers=registrar
    )
    first = await client.get(f"{url}/history", params={"limit": 2}, headers=steward)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [version["change"] for version in page["items"]] == ["registered", "updated"]
    assert page["items"][0]["record"]["address"] == entity["address"]
    assert page["items"][1]["record"]["address"] == "第二个地址"
    assert page["items"][1]["recorded_by"] == "amr-registrar"
    rest = await client.get(f"{url}/history", params={"cursor": page["next_cursor"]}, headers=steward)
    last = rest.json()["items"]
    assert [version["change"] for version in last] == ["status-changed"]
    assert last[0]["record"]["status"] == "suspended"
    assert last[0]["record"]["address"] == "第二个地址"


async def test_search_finds_a_chinese_substring_and_filters_pages_in_uscc_order(
    client: httpx.AsyncClient, registrar: dict[str, str], people: Any, entity_factory: Any
) -> None:
    factory = entity_factory(await people.living())
    made = []
    for index, name in enumerate(
        ["甲乙丙丁科技有限公司", "乙丙贸易有限公司", "丙丁戊物流有限公司", "丁科食品有限公司"]
    ):
        entity = {
            **factory.entity(),
            "name": name,
            "region_code": "330106" if index % 2 else "110105",
            "industry_code": "6513" if index < 2 else "5821",
            "established_on": f"201{index}-05-01",
            "operating_until": None,
        }
        made.append(await registered(client, registrar, entity))

    async def found(**params: str) -> list[str]:
        response = await client.get(ENTITIES, params=params, headers=registrar)
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    assert set(await found(name="乙丙")) == {"甲乙丙丁科技有限公司", "乙丙贸易有限公司"}
    assert set(await found(name="丙丁")) == {"甲乙丙丁科技有限公司", "丙丁戊物流有限公司"}
    assert set(await found(name="丁科")) == {"甲乙丙丁科技有限公司", "丁科食品有限公司"}
    assert set(await found(name="戊")) == {"丙丁戊物流有限公司"}
    assert await found(name="乙丁") == []  # the grams are there, the substring is not
    assert set(await found(name="丙", region="3301")) == {"乙丙贸易有限公司"}
    assert set(await found(name="有限公司", industry="I")) == {"甲乙丙丁科技有限公司", "乙丙贸易有限公司"}
    assert set(await found(name="有限公司", industry="582")) == {"丙丁戊物流有限公司", "丁科食品有限公司"}
    assert set(await found(name="有限公司", established_from="2011-01-01", established_to="2012-12-31")) == {
        "乙丙贸易有限公司",
        "丙丁戊物流有限公司",
    }
    assert await found(name="有限公司", status="suspended") == []
    pages, cursor = [], None
    while True:
        params = {"name": "有限公司", "limit": "3", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(ENTITIES, params=params, headers=registrar)).json()
        pages.append([item["uscc"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [uscc for page in pages for uscc in page] == sorted(entity["uscc"] for entity in made)
    bad = await client.get(ENTITIES, params={"industry": "Z"}, headers=registrar)
    assert bad.status_code == 422


async def test_the_name_search_can_use_its_gin_index(connection: AsyncConnection) -> None:
    statement = repository.search(
        name="科技", region=None, industry=None, status=None, established_from=None, established_to=None
    )
    sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    await connection.execute(text("SET LOCAL enable_seqscan = off"))  # a few rows: make the planner show its options
    plan = "\n".join(row[0] for row in (await connection.execute(text("EXPLAIN " + sql))).all())
    assert "ix_entity_name_grams" in plan, plan


async def test_nul_in_a_path_or_a_query_is_unstorable_input_not_a_server_error(
    client: httpx.AsyncClient, steward: dict[str, str]
) -> None:
    for response in (
        await client.get(f"{ENTITIES}/a%00b", headers=steward),
        await client.get(f"{ENTITIES}/a%00b/history", headers=steward),
        await client.get(ENTITIES, params={"name": "a\x00b"}, headers=steward),
    ):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
