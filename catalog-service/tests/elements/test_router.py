from __future__ import annotations


async def test_who_owns_a_datum(client, catalog, police_steward, market_steward, consumer, person, company) -> None:
    await catalog.create(person(), police_steward)
    draft_only = await client.get("/v1/elements/person.name", headers=consumer)
    assert draft_only.status_code == 404  # a draft owns nothing yet
    assert draft_only.json()["type"].endswith("/no-authoritative-source")
    await catalog.publish("population.person", police_steward)
    owner = await client.get("/v1/elements/person.name", headers=consumer)
    assert owner.status_code == 200
    assert owner.json() == {
        "element": "person.name",
        "resource": "population.person",
        "field": "name",
        "provider": "public-security",
    }
    assert (await client.get("/v1/elements/person.unknown", headers=consumer)).status_code == 404
    assert (await client.get("/v1/elements/Not-An-Element", headers=consumer)).status_code == 422


async def test_creating_resources_registers_their_elements(
    client, catalog, police_steward, market_steward, consumer, person, company
) -> None:
    await catalog.published(person(), police_steward)
    await catalog.create(company(), market_steward)
    listed = await client.get("/v1/elements", headers=consumer)
    assert listed.status_code == 200
    by_code = {item["element"]: item for item in listed.json()["items"]}
    assert {
        "person.id_number",
        "person.name",
        "person.household_address",
        "person.birth_date",
        "entity.uscc",
        "entity.representative_name",
    } <= set(by_code)
    assert by_code["person.name"]["resource"] == "population.person"
    assert by_code["entity.uscc"] == {"element": "entity.uscc", "resource": None, "field": None, "provider": None}
    prefixed = await client.get("/v1/elements", params={"prefix": "entity.", "limit": "1"}, headers=consumer)
    assert [item["element"] for item in prefixed.json()["items"]] == ["entity.representative_name"]
    rest = await client.get(
        "/v1/elements", params={"prefix": "entity.", "cursor": prefixed.json()["next_cursor"]}, headers=consumer
    )
    assert [item["element"] for item in rest.json()["items"]] == ["entity.uscc"]
    assert rest.json()["next_cursor"] is None
