from __future__ import annotations

from typing import Any

import pytest

RESOURCES = "/v1/resources"


def _names(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/validation-error")
    return [param["name"] for param in problem["invalid_params"]]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "Population.Person"}, "body.id"),
        ({"id": "population"}, "body.id"),
        ({"id": "population..person"}, "body.id"),
        ({"name": ""}, "body.name"),
        ({"name": "   "}, "body.name"),
        ({"summary": "x" * 4001}, "body.summary"),
        ({"provider": "Public Security"}, "body.provider"),
        ({"category": "misc"}, "body.category"),
        ({"update_cycle": "hourly"}, "body.update_cycle"),
        ({"share_type": "sometimes"}, "body.share_type"),
        ({"service": "Population!"}, "body.service"),
        ({"paths": ["v1/persons"]}, "body.paths.0"),
        ({"paths": ["/v1/persons/{Id Number}"]}, "body.paths.0"),
        ({"topic": "Not A Topic"}, "body.topic"),
        ({"key": "ID"}, "body.key"),
        ({"fields": []}, "body.fields"),
        ({"unknown": 1}, "body.unknown"),
        ({"status": "published"}, "body.status"),
        ({"filters": {"born from": ["birth_date"]}}, "body.filters.born from.[key]"),
        ({"filters": {"born_from": []}}, "body.filters.born_from"),
    ],
)
async def test_malformed_attributes_are_422_naming_the_field(client, police_steward, person, changes, field) -> None:
    assert field in _names(await client.post(RESOURCES, json=person(**changes), headers=police_steward))


@pytest.mark.parametrize(
    ("field_changes", "name"),
    [
        ({"name": "Bad Name"}, "body.fields.0.name"),
        ({"element": "person"}, "body.fields.0.element"),
        ({"element": "Person.Name"}, "body.fields.0.element"),
        ({"data_type": "X"}, "body.fields.0.data_type"),
        ({"data_type": "c"}, "body.fields.0.data_type"),
        ({"length": 0}, "body.fields.0.length"),
        ({"length": None}, "body.fields.0.length"),  # C needs a length
        ({"authoritative": False}, "body.fields.0.source_element"),  # neither authoritative nor a copy
        ({"source_element": "person.id_number"}, "body.fields.0.source_element"),  # both
        ({"source_element": "not an element", "authoritative": False}, "body.fields.0.source_element"),
        ({"extra": True}, "body.fields.0.extra"),
    ],
)
async def test_malformed_fields_are_422_naming_the_field(client, police_steward, person, field_changes, name) -> None:
    document = person()
    document["fields"][0].update(field_changes)
    assert name in _names(await client.post(RESOURCES, json=document, headers=police_steward))


async def test_every_data_type_is_accepted(client, police_steward, person) -> None:
    fields = [
        {"name": f"f_{kind.lower()}", "element": f"test.f_{kind.lower()}", "data_type": kind, "length": 10,
         "authoritative": True}
        for kind in "CNYDTLMGBIF"
    ]  # fmt: skip
    response = await client.post(RESOURCES, json=person(fields=fields, key="f_c"), headers=police_steward)
    assert response.status_code == 201, response.text
    assert [field["data_type"] for field in response.json()["fields"]] == list("CNYDTLMGBIF")


async def test_conditional_sharing_needs_its_condition(client, police_steward, person) -> None:
    names = _names(await client.post(RESOURCES, json=person(share_type="conditional"), headers=police_steward))
    assert names == ["body.share_condition"]
    ok = await client.post(
        RESOURCES, json=person(share_type="conditional", share_condition="仅限社会救助审核"), headers=police_steward
    )
    assert ok.status_code == 201, ok.text


async def test_not_shared_needs_its_legal_basis_and_cannot_be_open(client, police_steward, person) -> None:
    names = _names(
        await client.post(RESOURCES, json=person(share_type="not_shared", open_to_public=True), headers=police_steward)
    )
    assert names == ["body.legal_basis", "body.open_to_public"]
    ok = await client.post(
        RESOURCES, json=person(share_type="not_shared", legal_basis="《居民身份证法》第六条"), headers=police_steward
    )
    assert ok.status_code == 201, ok.text


async def test_rules_spanning_fields(client, police_steward, person) -> None:
    document = person(share_condition="only for x", open_condition="when asked", key="missing", service=None)
    document["fields"][1]["name"] = "id_number"
    document["fields"][2]["element"] = "person.id_number"
    names = _names(await client.post(RESOURCES, json=document, headers=police_steward))
    assert names == [
        "body.share_condition",
        "body.open_condition",
        "body.service",
        "body.fields.1.name",
        "body.fields.2.element",
        "body.key",
    ]


async def test_a_declared_filter_selects_by_fields_of_the_resource(client, catalog, police_steward, person) -> None:
    names = [field["name"] for field in person()["fields"]]
    unknown = person(filters={"born_from": ["birth_date_of_nobody"], names[1]: [names[1]]})
    assert _names(await client.post(RESOURCES, json=unknown, headers=police_steward)) == [
        "body.filters.born_from",
        f"body.filters.{names[1]}",
    ]
    created = await client.post(RESOURCES, json=person(filters={"from": [names[1]]}), headers=police_steward)
    assert created.status_code == 201, created.text
    assert created.json()["filters"] == {"from": [names[1]]}
    url = f"{RESOURCES}/{created.json()['id']}"
    cleared = await client.patch(url, json={"filters": {}}, headers={**police_steward, "If-Match": '"1"'})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["filters"] == {}
    assert _names(await client.patch(url, json={"filters": None}, headers={**police_steward, "If-Match": '"2"'})) == [
        "body.filters"
    ]


async def test_changes_are_validated_on_the_merged_document(client, catalog, police_steward, person) -> None:
    await catalog.create(person(), police_steward)
    headers = {**police_steward, "If-Match": '"1"'}
    url = f"{RESOURCES}/population.person"
    assert _names(await client.patch(url, json={"share_type": "conditional"}, headers=headers)) == [
        "body.share_condition"
    ]
    assert _names(await client.patch(url, json={"name": None}, headers=headers)) == ["body.name"]
    assert _names(await client.patch(url, json={"fields": []}, headers=headers)) == ["body.fields"]
    assert "body.provider" in _names(await client.patch(url, json={"provider": "other-dept"}, headers=headers))
    assert "body.id" in _names(await client.patch(url, json={"id": "other.id"}, headers=headers))
    ok = await client.patch(url, json={"share_type": "conditional", "share_condition": "审批"}, headers=headers)
    assert ok.status_code == 200
    back = await client.patch(
        url,
        json={"share_type": "unconditional", "share_condition": None},
        headers={**police_steward, "If-Match": '"2"'},
    )
    assert back.status_code == 200, back.text
    assert back.json()["share_condition"] is None


async def test_malformed_json_and_bad_query_are_422(client, police_steward) -> None:
    response = await client.post(
        RESOURCES, content=b'{"id": ', headers={**police_steward, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/malformed-json")
    for params in ({"limit": "0"}, {"limit": "201"}, {"category": "x"}, {"element": "Bad"}, {"status": "gone"}):
        bad = await client.get(RESOURCES, params=params, headers=police_steward)
        assert bad.status_code == 422, params
    assert (await client.get(f"{RESOURCES}/Not-An-Id", headers=police_steward)).status_code == 422


async def test_nul_in_any_text_is_unstorable_input_not_a_server_error(client, police_steward, person) -> None:
    # Issue 20 §5: NUL in a resource's texts answered 500.
    for document in (
        person(name="人口\x00信息"),
        person(summary="a\x00b"),
        person(share_type="conditional", share_condition="\x00"),
        person(fields=[{"name": "id_number", "element": "person.id_number", "data_type": "C", "length": 18,
                        "description": "公民\x00身份号码", "authoritative": True}]),
    ):  # fmt: skip
        response = await client.post(RESOURCES, json=document, headers=police_steward)
        assert response.status_code == 422, response.text
        assert response.json()["type"].endswith("/unstorable-input")
    searched = await client.get(RESOURCES, params={"q": "人\x00"}, headers=police_steward)
    assert searched.status_code == 422, searched.text
