from __future__ import annotations

from typing import Any

import pytest

PERSONS = "/v1/persons"

GOOD = "11010519491231002X"


def body(**overrides: Any) -> dict[str, Any]:
    person: dict[str, Any] = {
        "id_number": GOOD,
        "name": "王明",
        "sex": "2",
        "ethnicity": "01",
        "birth_date": "1949-12-31",
        "birthplace_code": "110105",
        "household_region_code": "110101",
        "household_address": "东城区南池子大街12号",
        "marital_status": "20",
        "education": "21",
        "household_id": "110101000123",
        "relationship_to_head": "02",
    }
    return {**person, **overrides}


async def register(client, registrar, **overrides: Any) -> dict[str, Any]:
    response = await client.post(PERSONS, json=body(**overrides), headers=registrar)
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


async def test_registrar_registers_and_owner_reads_with_etag(client, registrar, owner_consumer, events) -> None:
    response = await client.post(PERSONS, json=body(id_number=GOOD.lower()), headers=registrar)
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"{PERSONS}/{GOOD}"
    person = response.json()
    assert person["id_number"] == GOOD  # the check character is stored upper case
    assert person["version"] == 1
    assert person["deceased"] is False
    assert person["death_date"] is None
    assert person["former_names"] == []

    read = await client.get(f"{PERSONS}/{GOOD}", headers=owner_consumer)
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == person

    [event] = await events(GOOD)
    assert event["type"] == "gov.onesource.population.person.registered.v1"
    assert event["source"] == "/onesource/population"
    assert event["subject"] == GOOD
    assert event["dataschema"].endswith("gov.onesource.population.person.registered.v1.json")
    expected = {key: value for key, value in person.items() if key not in {"version", "created_at", "updated_at"}}
    assert event["data"] == {"record": expected}


async def test_the_gateway_reads_whole_records_but_other_departments_do_not(
    client, registrar, gateway, foreign_consumer, foreign_registrar
) -> None:
    await register(client, registrar)
    assert (await client.get(f"{PERSONS}/{GOOD}", headers=gateway)).status_code == 200
    assert (await client.get(PERSONS, headers=gateway)).status_code == 200
    for outsider in (foreign_consumer, foreign_registrar):
        denied = await client.get(f"{PERSONS}/{GOOD}", headers=outsider)
        assert denied.status_code == 403
        assert "gateway" in denied.json()["detail"]
        assert (await client.get(PERSONS, headers=outsider)).status_code == 403
    # the gateway reads, but it never writes and never sees the history
    assert (await client.post(PERSONS, json=body(), headers=gateway)).status_code == 403
    assert (await client.get(f"{PERSONS}/{GOOD}/history", headers=gateway)).status_code == 403


async def test_only_the_owners_registrars_write(client, registrar, owner_consumer, foreign_registrar, events) -> None:
    for caller in (owner_consumer, foreign_registrar):
        assert (await client.post(PERSONS, json=body(), headers=caller)).status_code == 403
    await register(client, registrar)
    patch = {"household_address": "elsewhere"}
    for caller in (owner_consumer, foreign_registrar):
        denied = await client.patch(f"{PERSONS}/{GOOD}", json=patch, headers={**caller, "If-Match": '"1"'})
        assert denied.status_code == 403
        death = await client.post(f"{PERSONS}/{GOOD}/death", json={"death_date": "2020-01-01"}, headers=caller)
        assert death.status_code == 403
    assert len(await events(GOOD)) == 1  # only the registration


async def test_unauthenticated_calls_are_401(client) -> None:
    assert (await client.get(f"{PERSONS}/{GOOD}")).status_code == 401
    assert (await client.post(PERSONS, json=body())).status_code == 401


async def test_duplicate_registration_is_409(client, registrar, events) -> None:
    await register(client, registrar)
    again = await client.post(PERSONS, json=body(name="别人"), headers=registrar)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/duplicate-person")
    assert len(await events(GOOD)) == 1


async def test_a_registration_repeated_with_its_idempotency_key_answers_the_first_result(
    client, registrar, events
) -> None:
    headers = {**registrar, "Idempotency-Key": "register-wang-ming"}
    first = await client.post(PERSONS, json=body(), headers=headers)
    again = await client.post(PERSONS, json=body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"] == '"1"'
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotency-replayed"] == "true"
    assert len(await events(GOOD)) == 1, "registered once: one event"
    history = (await client.get(f"{PERSONS}/{GOOD}/history", headers=registrar)).json()["items"]
    assert len(history) == 1

    other = await client.post(PERSONS, json=body(name="李四"), headers=headers)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    without = await client.post(PERSONS, json=body(), headers=registrar)
    assert without.status_code == 409, "without the key a repeat is a second registration, refused"


async def test_idempotency_keys_belong_to_their_caller(client, registrar, tokens) -> None:
    key = {"Idempotency-Key": "shared-key"}
    assert (await client.post(PERSONS, json=body(), headers={**registrar, **key})).status_code == 201
    colleague = tokens.headers("psb-registrar-2", "psb", ["registrar"])
    second = await client.post(PERSONS, json=body(), headers={**colleague, **key})
    assert second.status_code == 409, "another client's key is its own: a real second attempt, not a replay"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id_number": "110105194912310021"}, "id_number"),
        ({"id_number": "11010519491231"}, "id_number"),
        ({"birth_date": "1950-01-01"}, "birth_date"),
        ({"sex": "1"}, "sex"),
        ({"sex": "7"}, "sex"),
        ({"ethnicity": "60"}, "ethnicity"),
        ({"marital_status": "99"}, "marital_status"),
        ({"education": "55"}, "education"),
        ({"relationship_to_head": "03"}, "relationship_to_head"),
        ({"birthplace_code": "990000"}, "birthplace_code"),
        ({"household_region_code": "1101"}, "household_region_code"),
        ({"name": ""}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"birth_date": "1949-02-30"}, "birth_date"),
        ({"household_id": "has spaces"}, "household_id"),
        ({"deceased": True}, "deceased"),
        ({"name": "王\x00明"}, "name"),
        ({"household_address": "北京市\x00朝阳区"}, "household_address"),
    ],
)
async def test_invalid_fields_are_422_naming_the_field(client, registrar, events, overrides, field) -> None:
    response = await client.post(PERSONS, json=body(**overrides), headers=registrar)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["status"] == 422
    assert f"body.{field}" in [param["name"] for param in problem["invalid_params"]], problem
    assert await events(GOOD) == []


async def test_malformed_json_is_a_problem_not_a_crash(client, registrar) -> None:
    response = await client.post(
        PERSONS, content=b"{not json", headers={**registrar, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_unknown_person_is_404(client, owner_consumer) -> None:
    response = await client.get(f"{PERSONS}/110101199003074477", headers=owner_consumer)
    assert response.status_code == 404
    assert response.json()["type"].endswith("/person-not-found")


async def test_patch_requires_if_match_and_refuses_a_stale_one(client, registrar, events) -> None:
    await register(client, registrar)
    url = f"{PERSONS}/{GOOD}"
    missing = await client.patch(url, json={"education": "14"}, headers=registrar)
    assert missing.status_code == 428
    garbage = await client.patch(url, json={"education": "14"}, headers={**registrar, "If-Match": "yesterday"})
    assert garbage.status_code == 400

    first = await client.patch(url, json={"education": "14"}, headers={**registrar, "If-Match": '"1"'})
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"2"'
    assert first.json()["education"] == "14"

    stale = await client.patch(url, json={"education": "11"}, headers={**registrar, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert (await client.get(url, headers=registrar)).json()["education"] == "14"
    assert [event["type"].split(".")[-2] for event in await events(GOOD)] == ["registered", "updated"]


async def test_patch_event_carries_changes_and_the_whole_record(client, registrar, events) -> None:
    await register(client, registrar)
    response = await client.patch(
        f"{PERSONS}/{GOOD}",
        json={"name": "王明明", "household_address": None, "marital_status": "40"},
        headers={**registrar, "If-Match": 'W/"1"'},
    )
    assert response.status_code == 200, response.text
    person = response.json()
    assert person["former_names"] == ["王明"]  # the old name became a former name
    assert person["household_address"] is None
    _, updated = await events(GOOD)
    assert updated["type"] == "gov.onesource.population.person.updated.v1"
    assert updated["data"]["changes"] == {
        "name": "王明明",
        "household_address": None,
        "marital_status": "40",
        "former_names": ["王明"],
    }
    assert updated["data"]["record"]["name"] == "王明明"
    assert updated["data"]["record"]["id_number"] == GOOD


async def test_patch_without_a_change_makes_no_version(client, registrar, events) -> None:
    await register(client, registrar)
    response = await client.patch(
        f"{PERSONS}/{GOOD}", json={"education": "21"}, headers={**registrar, "If-Match": '"1"'}
    )
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert len(await events(GOOD)) == 1


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"sex": "1"}, "sex"),
        ({"birth_date": "1950-01-01"}, "birth_date"),
        ({"id_number": "110101199003074477"}, "id_number"),
        ({"name": None}, "name"),
        ({"ethnicity": "77"}, "ethnicity"),
        ({"household_region_code": "000000"}, "household_region_code"),
    ],
)
async def test_patch_refuses_immutable_and_invalid_fields(client, registrar, events, patch, field) -> None:
    await register(client, registrar)
    response = await client.patch(f"{PERSONS}/{GOOD}", json=patch, headers={**registrar, "If-Match": '"1"'})
    assert response.status_code == 422, response.text
    assert f"body.{field}" in [param["name"] for param in response.json()["invalid_params"]]
    assert len(await events(GOOD)) == 1


async def test_death_registration(client, registrar, events) -> None:
    await register(client, registrar)
    url = f"{PERSONS}/{GOOD}/death"
    before_birth = await client.post(url, json={"death_date": "1949-01-01"}, headers=registrar)
    assert before_birth.status_code == 422
    assert before_birth.json()["invalid_params"][0]["name"] == "body.death_date"
    stale = await client.post(url, json={"death_date": "2020-05-01"}, headers={**registrar, "If-Match": '"7"'})
    assert stale.status_code == 412

    response = await client.post(url, json={"death_date": "2020-05-01"}, headers=registrar)
    assert response.status_code == 200, response.text
    person = response.json()
    assert person["deceased"] is True
    assert person["death_date"] == "2020-05-01"
    assert person["version"] == 2

    again = await client.post(url, json={"death_date": "2020-05-02"}, headers=registrar)
    assert again.status_code == 409
    no_more = await client.patch(
        f"{PERSONS}/{GOOD}", json={"education": "14"}, headers={**registrar, "If-Match": '"2"'}
    )
    assert no_more.status_code == 409
    _, deceased = await events(GOOD)
    assert deceased["type"] == "gov.onesource.population.person.deceased.v1"
    assert deceased["data"]["record"]["deceased"] is True
    assert deceased["data"]["record"]["death_date"] == "2020-05-01"


async def test_history_lists_every_version_with_who_and_the_record_then(client, registrar, tokens) -> None:
    await register(client, registrar)
    other_registrar = tokens.headers("psb-desk-2", "psb", ["registrar"])
    url = f"{PERSONS}/{GOOD}"
    await client.patch(url, json={"education": "14"}, headers={**registrar, "If-Match": '"1"'})
    await client.patch(url, json={"household_address": "新地址"}, headers={**other_registrar, "If-Match": '"2"'})
    await client.post(f"{url}/death", json={"death_date": "2021-01-01"}, headers=registrar)

    response = await client.get(f"{url}/history", params={"limit": 2}, headers=registrar)
    assert response.status_code == 200, response.text
    page = response.json()
    assert [v["version"] for v in page["items"]] == [1, 2]
    first, second = page["items"]
    assert first["change"] == "registered"
    assert first["recorded_by"] == "psb-registrar"
    assert first["record"]["education"] == "21"
    assert second["changes"] == {"education": "14"}
    assert second["record"]["education"] == "14"
    assert second["record"]["household_address"] == "东城区南池子大街12号"

    rest = await client.get(f"{url}/history", params={"cursor": page["next_cursor"]}, headers=registrar)
    third, fourth = rest.json()["items"]
    assert rest.json()["next_cursor"] is None
    assert third["recorded_by"] == "psb-desk-2"
    assert third["department"] == "psb"
    assert third["record"]["household_address"] == "新地址"
    assert third["record"]["education"] == "14"
    assert fourth["change"] == "deceased"
    assert fourth["record"]["deceased"] is True
    assert fourth["recorded_at"] >= third["recorded_at"] >= first["recorded_at"]


async def test_search_by_name_region_and_birth_dates(client, registrar, factory) -> None:
    people = [factory.person() for _ in range(30)]
    for person in people:
        person["name"] = "测试" + person["name"]
        person.pop("death_date", None)
        response = await client.post(PERSONS, json=person, headers=registrar)
        assert response.status_code == 201, response.text
    region = people[0]["household_region_code"][:4]
    start, end = "1960-01-01", "1999-12-31"
    expected = sorted(
        p["id_number"]
        for p in people
        if p["household_region_code"].startswith(region) and start <= p["birth_date"] <= end
    )
    found: list[str] = []
    cursor = None
    while True:
        params = {"name": "测试", "region": region, "born_from": start, "born_to": end, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(PERSONS, params=params, headers=registrar)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        found.extend(item["id_number"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert found == expected
    # a LIKE wildcard in the name is taken literally
    literal = await client.get(PERSONS, params={"name": "测%"}, headers=registrar)
    assert literal.json()["items"] == []


@pytest.mark.parametrize(
    "params",
    [{"limit": 201}, {"limit": 0}, {"region": "1"}, {"region": "abc"}, {"born_from": "yesterday"}, {"cursor": "!!"}],
)
async def test_bad_search_parameters_are_422(client, registrar, params) -> None:
    response = await client.get(PERSONS, params=params, headers=registrar)
    assert response.status_code == 422, response.text


async def test_nul_in_a_path_or_a_query_is_unstorable_input_not_a_server_error(client, owner_consumer) -> None:
    # Issue 20 §5: these answered 500.
    for response in (
        await client.get(f"{PERSONS}/a%00b", headers=owner_consumer),
        await client.get(f"{PERSONS}/a%00b/history", headers=owner_consumer),
        await client.get(PERSONS, params={"name": "a\x00b"}, headers=owner_consumer),
    ):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/unstorable-input")
