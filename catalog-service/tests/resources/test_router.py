from __future__ import annotations

import json

import pytest

RESOURCES = "/v1/resources"


# --- create, read, lifecycle ------------------------------------------------------------------------------


async def test_steward_registers_a_draft_with_an_assigned_code(client, police_steward, person, events) -> None:
    response = await client.post(RESOURCES, json=person(), headers=police_steward)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == "population.person"
    assert body["code"] == "1/000001"
    assert body["status"] == "draft"
    assert body["version"] == 1
    assert body["published_at"] is None
    assert body["fields"][0] == {
        "name": "id_number",
        "element": "person.id_number",
        "data_type": "C",
        "length": 18,
        "description": "公民身份号码",
        "authoritative": True,
        "source_element": None,
    }
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == "/v1/resources/population.person"
    assert set(body) == {
        "id", "code", "name", "summary", "provider", "category", "format", "shape", "update_cycle", "share_type",
        "share_condition", "legal_basis", "open_to_public", "open_condition", "service", "paths", "key", "topic",
        "status", "version", "fields", "filters", "published_at", "updated_at",
    }  # fmt: skip
    assert body["filters"] == {}, "no parameter selects by fields of other names unless the resource says so"
    assert body["shape"] == "record", "answers are records unless the resource says otherwise"
    assert await events("population.person") == []  # drafts are not announced


async def test_codes_are_sequential_per_category(catalog, police_steward, person) -> None:
    first = await catalog.create(person(id="population.first"), police_steward)
    second = await catalog.create(person(id="population.second", fields=_copies()), police_steward)
    theme = await catalog.create(person(id="theme.elderly", category="theme", fields=_copies()), police_steward)
    department = await catalog.create(
        person(id="police.cases", category="department", fields=_copies()), police_steward
    )
    assert first["code"] == "1/000001"
    assert second["code"] == "1/000002"
    assert theme["code"] == "2/000001"
    assert department["code"] == "3/000001"


def _copies() -> list[dict[str, object]]:
    return [
        {"name": "id_number", "element": "person.id_number", "data_type": "C", "length": 18,
         "source_element": "person.id_number"},
    ]  # fmt: skip


async def test_lifecycle_publish_change_retire_with_versions_and_events(
    client, catalog, police_steward, consumer, person, events
) -> None:
    created = await catalog.create(person(), police_steward)
    published = await client.post(f"{RESOURCES}/population.person/publish", headers=police_steward)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert published.json()["version"] == 2
    assert published.json()["published_at"] is not None
    assert published.headers["etag"] == '"2"'

    changed = await client.patch(
        f"{RESOURCES}/population.person",
        json={"summary": "人口基础信息（更新）", "update_cycle": "daily"},
        headers={**police_steward, "If-Match": '"2"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 3
    assert changed.json()["summary"] == "人口基础信息（更新）"
    assert changed.json()["update_cycle"] == "daily"
    assert changed.json()["code"] == created["code"]
    assert changed.headers["etag"] == '"3"'

    read = await client.get(f"{RESOURCES}/population.person", headers=consumer)
    assert read.status_code == 200
    assert read.json() == changed.json()
    assert read.headers["etag"] == '"3"'

    retired = await client.post(f"{RESOURCES}/population.person/retire", headers=police_steward)
    assert retired.status_code == 200, retired.text
    assert retired.json()["status"] == "retired"
    assert retired.json()["version"] == 4

    emitted = await events("population.person")
    assert [event["type"] for event in emitted] == [
        "gov.onesource.catalog.resource.published.v1",
        "gov.onesource.catalog.resource.changed.v1",
        "gov.onesource.catalog.resource.retired.v1",
    ]
    assert all(event["source"] == "/onesource/catalog" for event in emitted)
    assert all(event["subject"] == "population.person" for event in emitted)
    assert [event["data"] for event in emitted] == [published.json(), changed.json(), retired.json()]

    history = await client.get(f"{RESOURCES}/population.person/history", headers=police_steward)
    assert history.status_code == 200
    versions = history.json()["items"]
    assert [(v["version"], v["action"]) for v in versions] == [
        (1, "created"),
        (2, "published"),
        (3, "updated"),
        (4, "retired"),
    ]
    assert all(v["changed_by"] == "police-steward" for v in versions)
    assert versions[0]["document"] == created
    assert versions[2]["document"] == changed.json()
    assert versions[3]["document"] == retired.json()

    # a retired resource is out of reach for consumers, and it cannot change or be published again
    assert (await client.get(f"{RESOURCES}/population.person", headers=consumer)).status_code == 404
    again = await client.post(f"{RESOURCES}/population.person/publish", headers=police_steward)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/invalid-status-transition")
    frozen = await client.patch(
        f"{RESOURCES}/population.person", json={"name": "x"}, headers={**police_steward, "If-Match": '"4"'}
    )
    assert frozen.status_code == 409
    assert frozen.json()["type"].endswith("/resource-retired")


async def test_changing_a_draft_emits_nothing(client, catalog, police_steward, person, events) -> None:
    await catalog.create(person(), police_steward)
    changed = await client.patch(
        f"{RESOURCES}/population.person", json={"name": "人口信息"}, headers={**police_steward, "If-Match": '"1"'}
    )
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    assert await events("population.person") == []


async def test_history_pages(client, catalog, police_steward, person) -> None:
    await catalog.create(person(), police_steward)
    for version in range(1, 4):
        response = await client.patch(
            f"{RESOURCES}/population.person",
            json={"name": f"人口 v{version + 1}"},
            headers={**police_steward, "If-Match": f'"{version}"'},
        )
        assert response.status_code == 200
    first = (await client.get(f"{RESOURCES}/population.person/history?limit=3", headers=police_steward)).json()
    assert [v["version"] for v in first["items"]] == [1, 2, 3]
    rest = (
        await client.get(
            f"{RESOURCES}/population.person/history", params={"cursor": first["next_cursor"]}, headers=police_steward
        )
    ).json()
    assert [v["version"] for v in rest["items"]] == [4]
    assert rest["next_cursor"] is None
    assert rest["items"][0]["document"]["name"] == "人口 v4"
    bad = await client.get(f"{RESOURCES}/population.person/history?cursor=YWJj", headers=police_steward)
    assert bad.status_code == 422
    assert bad.json()["type"].endswith("/invalid-cursor")


async def test_duplicate_id_is_409(client, catalog, police_steward, person) -> None:
    await catalog.create(person(), police_steward)
    again = await client.post(RESOURCES, json=person(fields=_copies()), headers=police_steward)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/duplicate-resource")


async def test_missing_resource_is_404(client, police_steward) -> None:
    for response in (
        await client.get(f"{RESOURCES}/nothing.here", headers=police_steward),
        await client.post(f"{RESOURCES}/nothing.here/publish", headers=police_steward),
        await client.patch(f"{RESOURCES}/nothing.here", json={}, headers={**police_steward, "If-Match": '"1"'}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["type"].endswith("/resource-not-found")


async def test_idempotency_key_replays_the_first_answer(client, police_steward, person, events) -> None:
    headers = {**police_steward, "Idempotency-Key": "create-person-once"}
    first = await client.post(RESOURCES, json=person(), headers=headers)
    again = await client.post(
        RESOURCES, content=json.dumps(person(), indent=2), headers={**headers, "Content-Type": "application/json"}
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["etag"] == '"1"'
    history = await client.get(f"{RESOURCES}/population.person/history", headers=police_steward)
    assert len(history.json()["items"]) == 1
    other = await client.post(RESOURCES, json=person(id="population.other"), headers=headers)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")


async def test_idempotency_keys_belong_to_their_caller(client, tokens, police_steward, person) -> None:
    key = {"Idempotency-Key": "shared"}
    first = await client.post(RESOURCES, json=person(), headers={**police_steward, **key})
    assert first.status_code == 201
    other_steward = tokens.headers("police-steward-2", "public-security", ["steward"])
    second = await client.post(RESOURCES, json=person(), headers={**other_steward, **key})
    assert second.status_code == 409  # a real second attempt, not a replay of someone else's answer


# --- ETag / If-Match ---------------------------------------------------------------------------------------


async def test_change_without_if_match_is_428(client, catalog, police_steward, person) -> None:
    await catalog.create(person(), police_steward)
    response = await client.patch(f"{RESOURCES}/population.person", json={"name": "x"}, headers=police_steward)
    assert response.status_code == 428
    assert response.json()["type"].endswith("/precondition-required")


@pytest.mark.parametrize("stale", ['"2"', '"0"', 'W/"7"'])
async def test_change_with_a_stale_etag_is_412(client, catalog, police_steward, person, stale) -> None:
    await catalog.create(person(), police_steward)
    response = await client.patch(
        f"{RESOURCES}/population.person", json={"name": "x"}, headers={**police_steward, "If-Match": stale}
    )
    assert response.status_code == 412
    read = await client.get(f"{RESOURCES}/population.person", headers=police_steward)
    assert read.json()["name"] == "人口基础信息"
    assert read.json()["version"] == 1


async def test_an_if_match_that_is_no_entity_tag_is_400(client, catalog, police_steward, person) -> None:
    await catalog.create(person(), police_steward)
    response = await client.patch(
        f"{RESOURCES}/population.person", json={"name": "x"}, headers={**police_steward, "If-Match": "garbage"}
    )
    assert response.status_code == 400
    assert (await client.get(f"{RESOURCES}/population.person", headers=police_steward)).json()["version"] == 1


async def test_weak_and_bare_etags_are_accepted(client, catalog, police_steward, person) -> None:
    await catalog.create(person(), police_steward)
    weak = await client.patch(
        f"{RESOURCES}/population.person", json={"name": "a"}, headers={**police_steward, "If-Match": 'W/"1"'}
    )
    assert weak.status_code == 200
    bare = await client.patch(
        f"{RESOURCES}/population.person", json={"name": "b"}, headers={**police_steward, "If-Match": "2"}
    )
    assert bare.status_code == 200


async def test_publish_honours_if_match_when_sent(client, catalog, police_steward, person) -> None:
    await catalog.create(person(), police_steward)
    stale = await client.post(f"{RESOURCES}/population.person/publish", headers={**police_steward, "If-Match": '"5"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 1


# --- access ------------------------------------------------------------------------------------------------


async def test_steward_of_another_department_is_refused_everywhere(
    client, catalog, police_steward, market_steward, person
) -> None:
    refused = await client.post(RESOURCES, json=person(), headers=market_steward)
    assert refused.status_code == 403
    await catalog.create(person(), police_steward)
    # a draft of another department is invisible
    assert (await client.get(f"{RESOURCES}/population.person", headers=market_steward)).status_code == 404
    assert (await client.get(f"{RESOURCES}/population.person/history", headers=market_steward)).status_code == 404
    patched = await client.patch(
        f"{RESOURCES}/population.person", json={"name": "x"}, headers={**market_steward, "If-Match": '"1"'}
    )
    assert patched.status_code == 403
    assert patched.json()["type"].endswith("/forbidden")
    assert (await client.post(f"{RESOURCES}/population.person/publish", headers=market_steward)).status_code == 403
    await catalog.publish("population.person", police_steward)
    assert (await client.post(f"{RESOURCES}/population.person/retire", headers=market_steward)).status_code == 403
    patched = await client.patch(
        f"{RESOURCES}/population.person", json={"name": "x"}, headers={**market_steward, "If-Match": '"2"'}
    )
    assert patched.status_code == 403
    unchanged = await client.get(f"{RESOURCES}/population.person", headers=market_steward)
    assert unchanged.status_code == 200  # published: readable by anyone authenticated
    assert unchanged.json()["name"] == "人口基础信息"
    assert unchanged.json()["status"] == "published"


async def test_drafts_are_visible_to_their_stewards_coordinators_and_admins_only(
    client, catalog, police_steward, consumer, coordinator, admin, tokens, person
) -> None:
    await catalog.create(person(), police_steward)
    for allowed in (police_steward, coordinator, admin):
        assert (await client.get(f"{RESOURCES}/population.person", headers=allowed)).status_code == 200
    police_consumer = tokens.headers("police-app", "public-security", ["consumer"])
    for refused in (consumer, police_consumer):
        assert (await client.get(f"{RESOURCES}/population.person", headers=refused)).status_code == 404


async def test_consumers_and_coordinators_cannot_manage(
    client, catalog, police_steward, consumer, coordinator, tokens, person
) -> None:
    police_consumer = tokens.headers("police-app", "public-security", ["consumer", "registrar"])
    for refused in (consumer, coordinator, police_consumer):
        assert (await client.post(RESOURCES, json=person(), headers=refused)).status_code == 403
    await catalog.create(person(), police_steward)
    for refused in (consumer, coordinator, police_consumer):
        response = await client.post(f"{RESOURCES}/population.person/publish", headers=refused)
        assert response.status_code == 403


async def test_admin_manages_any_department(client, catalog, admin, person) -> None:
    created = await catalog.create(person(), admin)
    assert created["provider"] == "public-security"
    assert (await catalog.publish("population.person", admin))["status"] == "published"


async def test_every_call_needs_a_valid_token(client) -> None:
    for method, path in (
        ("GET", RESOURCES),
        ("POST", RESOURCES),
        ("GET", f"{RESOURCES}/population.person"),
        ("GET", f"{RESOURCES}/population.person/history"),
        ("POST", f"{RESOURCES}/population.person/publish"),
        ("POST", f"{RESOURCES}/population.person/retire"),
        ("PATCH", f"{RESOURCES}/population.person"),
        ("GET", "/v1/elements"),
        ("GET", "/v1/elements/person.name"),
        ("GET", "/v1/reports/re-collection"),
        ("GET", "/v1/exports/dcat"),
        ("GET", "/v1/exports/directory"),
    ):
        response = await client.request(method, path, headers={"Authorization": "Bearer not.a.token"})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"


# --- one datum, one source ---------------------------------------------------------------------------------


async def test_second_authoritative_claim_is_refused_at_creation(
    client, catalog, police_steward, market_steward, person, company
) -> None:
    await catalog.published(person(), police_steward)
    claim = company(
        fields=[
            *company()["fields"],
            {"name": "rep_name", "element": "person.name", "data_type": "C", "length": 50, "authoritative": True},
        ]
    )
    response = await client.post(RESOURCES, json=claim, headers=market_steward)
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"].endswith("/duplicate-authoritative-source")
    assert problem["element"] == "person.name"
    assert problem["field"] == "rep_name"
    assert problem["owner"] == {
        "element": "person.name",
        "resource": "population.person",
        "field": "name",
        "provider": "public-security",
    }
    assert "population.person" in problem["detail"]
    assert (await client.get(f"{RESOURCES}/legal-entity.company", headers=market_steward)).status_code == 404


async def test_second_authoritative_claim_is_refused_at_publication_and_change(
    client, catalog, police_steward, market_steward, person, company
) -> None:
    # both drafts claim person.name; the first to publish owns it
    claim = company(
        fields=[
            *company()["fields"],
            {"name": "rep_name", "element": "person.name", "data_type": "C", "length": 50, "authoritative": True},
        ]
    )
    await catalog.create(claim, market_steward)
    await catalog.published(person(), police_steward)
    refused = await client.post(f"{RESOURCES}/legal-entity.company/publish", headers=market_steward)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/duplicate-authoritative-source")
    assert refused.json()["owner"]["resource"] == "population.person"
    still = await client.get(f"{RESOURCES}/legal-entity.company", headers=market_steward)
    assert still.json()["status"] == "draft"
    # a published resource cannot take the element over by a change either
    await catalog.published(company(id="legal-entity.branch", fields=company()["fields"]), market_steward)
    takeover = await client.patch(
        f"{RESOURCES}/legal-entity.branch",
        json={"fields": claim["fields"]},
        headers={**market_steward, "If-Match": '"2"'},
    )
    assert takeover.status_code == 409
    assert takeover.json()["type"].endswith("/duplicate-authoritative-source")
    owner = await client.get("/v1/elements/person.name", headers=market_steward)
    assert owner.json()["resource"] == "population.person"


async def test_retiring_the_owner_frees_the_element(
    client, catalog, police_steward, market_steward, person, company
) -> None:
    await catalog.published(person(), police_steward)
    assert (await client.post(f"{RESOURCES}/population.person/retire", headers=police_steward)).status_code == 200
    assert (await client.get("/v1/elements/person.name", headers=market_steward)).status_code == 404
    claim = company(
        fields=[
            *company()["fields"],
            {"name": "rep_name", "element": "person.name", "data_type": "C", "length": 50, "authoritative": True},
        ]
    )
    await catalog.published(claim, market_steward)
    owner = await client.get("/v1/elements/person.name", headers=police_steward)
    assert owner.json() == {
        "element": "person.name",
        "resource": "legal-entity.company",
        "field": "rep_name",
        "provider": "market-regulation",
    }


async def test_a_resource_may_change_its_own_authoritative_fields(client, catalog, police_steward, person) -> None:
    await catalog.published(person(), police_steward)
    fields = person()["fields"]
    fields[1]["description"] = "姓名（含曾用名以外的现用名）"
    response = await client.patch(
        f"{RESOURCES}/population.person", json={"fields": fields}, headers={**police_steward, "If-Match": '"2"'}
    )
    assert response.status_code == 200, response.text
    assert response.json()["fields"][1]["description"] == "姓名（含曾用名以外的现用名）"
