from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from onesource.exchange.dependencies import calendar_from

REQUESTS = "/v1/share-requests"
CST = timezone(timedelta(hours=8))


@pytest.fixture
async def conditional(add_resource):
    return await add_resource("population.person-extended", provider="psb", share_type="conditional")


@pytest.fixture
async def unconditional(add_resource):
    return await add_resource("population.person", provider="psb", share_type="unconditional")


def ask(resource: str, fields: list[str], **extra):
    return {"resource": resource, "fields": fields, "purpose": "最低生活保障资格审核", **extra}


async def test_unconditional_request_is_granted_at_once(client, callers, unconditional, events) -> None:
    consumer = callers("mca", "consumer")
    response = await client.post(REQUESTS, json=ask("population.person", ["id_number", "name"]), headers=consumer)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "granted"
    assert body["consumer"] == "mca"
    assert body["provider"] == "psb"
    assert body["due_at"] is None
    grant = await client.get(f"/v1/grants/{body['grant_id']}", headers=consumer)
    assert grant.status_code == 200
    assert grant.json()["fields"] == ["id_number", "name"]
    assert grant.json()["status"] == "active"
    assert grant.json()["purpose"] == "最低生活保障资格审核"

    [request_event] = await events(body["id"])
    assert request_event["type"] == "gov.onesource.exchange.share-request.granted.v1"
    assert request_event["source"] == "/onesource/exchange"
    [grant_event] = await events(body["grant_id"])
    assert grant_event["type"] == "gov.onesource.exchange.grant.issued.v1"
    assert grant_event["subject"] == body["grant_id"]
    data = grant_event["data"]
    assert {
        "id",
        "share_request_id",
        "department",
        "resource",
        "fields",
        "purpose",
        "row_scope",
        "valid_from",
        "valid_until",
        "status",
        "revoked_reason",
    } <= set(data)
    assert data["department"] == "mca"
    assert data["status"] == "active"
    assert data["share_request_id"] == body["id"]


async def test_not_shared_request_is_refused_quoting_the_legal_basis(client, callers, add_resource, events) -> None:
    basis = "《中华人民共和国个人信息保护法》第二十八条"
    await add_resource("population.biometrics", share_type="not_shared", legal_basis=basis)
    response = await client.post(
        REQUESTS, json=ask("population.biometrics", ["name"]), headers=callers("mca", "consumer")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "refused"
    assert body["refusal_reason"] == basis
    assert body["grant_id"] is None
    [event] = await events(body["id"])
    assert event["type"] == "gov.onesource.exchange.share-request.refused.v1"
    assert event["data"]["note"] == basis


async def test_conditional_request_waits_ten_working_days_for_the_provider(
    client, callers, conditional, settings
) -> None:
    response = await client.post(
        REQUESTS,
        json=ask("population.person-extended", ["household_address"]),
        headers=callers("mca", "consumer"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "pending_provider"
    assert body["grant_id"] is None
    due = datetime.fromisoformat(body["due_at"]).astimezone(CST)
    created = datetime.fromisoformat(body["created_at"]).astimezone(CST)
    assert (due.hour, due.minute) == (23, 59)
    calendar = calendar_from(settings)
    assert calendar.is_working_day(due.date())
    assert calendar.working_days_between(created.date(), due.date()) == 10
    assert 12 <= (due.date() - created.date()).days <= 31


async def test_conditional_end_to_end_with_fewer_fields(client, callers, conditional, events) -> None:
    consumer = callers("mca", "consumer")
    submitted = await client.post(
        REQUESTS,
        json=ask("population.person-extended", ["name", "household_address", "marital_status"]),
        headers=consumer,
    )
    request_id = submitted.json()["id"]

    decided = await client.post(
        f"{REQUESTS}/{request_id}/decision",
        json={"approve": True, "fields": ["name", "household_address"], "reason": "marital status is not needed"},
        headers=callers("psb", "steward"),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "pending_confirmation"
    assert decided.json()["approved_fields"] == ["name", "household_address"]
    assert decided.json()["grant_id"] is None

    confirmed = await client.post(f"{REQUESTS}/{request_id}/confirm", headers=callers("bdb", "coordinator"))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "granted"
    grant_id = confirmed.json()["grant_id"]
    grant = (await client.get(f"/v1/grants/{grant_id}", headers=consumer)).json()
    assert grant["fields"] == ["name", "household_address"]
    assert grant["department"] == "mca"

    detail = (await client.get(f"{REQUESTS}/{request_id}", headers=consumer)).json()
    steps = [
        (step["action"], step["from_status"], step["to_status"], step["actor_department"]) for step in detail["history"]
    ]
    assert steps == [
        ("submitted", None, "pending_provider", "mca"),
        ("approved", "pending_provider", "pending_confirmation", "psb"),
        ("confirmed", "pending_confirmation", "granted", "bdb"),
    ]
    assert detail["history"][1]["note"] == "marital status is not needed"
    assert [event["type"].split(".")[-2] for event in await events(request_id)] == [
        "submitted",
        "approved",
        "confirmed",
    ]
    [issued] = await events(grant_id)
    assert issued["type"] == "gov.onesource.exchange.grant.issued.v1"
    assert issued["data"]["fields"] == ["name", "household_address"]


async def test_rejection_requires_a_reason(client, callers, conditional) -> None:
    submitted = await client.post(
        REQUESTS, json=ask("population.person-extended", ["name"]), headers=callers("mca", "consumer")
    )
    request_id = submitted.json()["id"]
    steward = callers("psb", "steward")
    silent = await client.post(f"{REQUESTS}/{request_id}/decision", json={"approve": False}, headers=steward)
    assert silent.status_code == 422
    assert silent.json()["type"].endswith("/reason-required")
    blank = await client.post(
        f"{REQUESTS}/{request_id}/decision", json={"approve": False, "reason": "   "}, headers=steward
    )
    assert blank.status_code == 422
    rejected = await client.post(
        f"{REQUESTS}/{request_id}/decision", json={"approve": False, "reason": "purpose not covered"}, headers=steward
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_reason"] == "purpose not covered"
    again = await client.post(f"{REQUESTS}/{request_id}/decision", json={"approve": True}, headers=steward)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/invalid-transition")


async def test_dispute_then_mediation_grants(client, callers, conditional, events) -> None:
    consumer = callers("mca", "consumer")
    coordinator = callers("bdb", "coordinator")
    request_id = (
        await client.post(REQUESTS, json=ask("population.person-extended", ["name", "sex"]), headers=consumer)
    ).json()["id"]
    await client.post(
        f"{REQUESTS}/{request_id}/decision",
        json={"approve": False, "reason": "no"},
        headers=callers("psb", "steward"),
    )
    early = await client.post(
        f"{REQUESTS}/{request_id}/mediate", json={"grant": True, "reason": "x"}, headers=coordinator
    )
    assert early.status_code == 409  # nothing disputed yet

    disputed = await client.post(
        f"{REQUESTS}/{request_id}/dispute", json={"reason": "民政法规 requires it"}, headers=consumer
    )
    assert disputed.status_code == 200, disputed.text
    assert disputed.json()["status"] == "disputed"
    assert disputed.json()["dispute_reason"] == "民政法规 requires it"

    mediated = await client.post(
        f"{REQUESTS}/{request_id}/mediate",
        json={"grant": True, "fields": ["name"], "reason": "the law entitles the name only"},
        headers=coordinator,
    )
    assert mediated.status_code == 200, mediated.text
    assert mediated.json()["status"] == "granted"
    grant = (await client.get(f"/v1/grants/{mediated.json()['grant_id']}", headers=consumer)).json()
    assert grant["fields"] == ["name"]
    assert [event["type"].split(".")[-2] for event in await events(request_id)] == [
        "submitted",
        "rejected",
        "disputed",
        "mediated",
    ]


async def test_mediation_can_uphold_the_rejection(client, callers, conditional) -> None:
    consumer = callers("mca", "consumer")
    request_id = (
        await client.post(REQUESTS, json=ask("population.person-extended", ["name"]), headers=consumer)
    ).json()["id"]
    await client.post(
        f"{REQUESTS}/{request_id}/decision", json={"approve": False, "reason": "no"}, headers=callers("psb", "steward")
    )
    await client.post(f"{REQUESTS}/{request_id}/dispute", json={"reason": "please"}, headers=consumer)
    upheld = await client.post(
        f"{REQUESTS}/{request_id}/mediate",
        json={"grant": False, "reason": "the provider is right"},
        headers=callers("bdb", "coordinator"),
    )
    assert upheld.status_code == 200
    assert upheld.json()["status"] == "upheld"
    assert upheld.json()["grant_id"] is None
    missing_reason = await client.post(
        f"{REQUESTS}/{request_id}/mediate", json={"grant": False}, headers=callers("bdb", "coordinator")
    )
    assert missing_reason.status_code == 422


async def test_authorization_of_every_step(client, callers, conditional) -> None:
    consumer = callers("mca", "consumer")
    request_id = (
        await client.post(REQUESTS, json=ask("population.person-extended", ["name"]), headers=consumer)
    ).json()["id"]
    decision = {"approve": True}

    # a consumer cannot decide, not even on a request of its own
    as_consumer = await client.post(f"{REQUESTS}/{request_id}/decision", json=decision, headers=consumer)
    assert as_consumer.status_code == 403
    # a steward of another department cannot decide
    other_steward = await client.post(
        f"{REQUESTS}/{request_id}/decision", json=decision, headers=callers("samr", "steward")
    )
    assert other_steward.status_code == 403
    assert other_steward.json()["type"].endswith("/not-the-provider")
    # an admin is not the provider's steward either
    admin = await client.post(f"{REQUESTS}/{request_id}/decision", json=decision, headers=callers("bdb", "admin"))
    assert admin.status_code == 403

    approved = await client.post(f"{REQUESTS}/{request_id}/decision", json=decision, headers=callers("psb", "steward"))
    assert approved.status_code == 200

    # only coordinators confirm
    for caller in (consumer, callers("psb", "steward"), callers("bdb", "admin")):
        refused = await client.post(f"{REQUESTS}/{request_id}/confirm", headers=caller)
        assert refused.status_code == 403, caller
    # a consumer of another department cannot dispute
    assert (
        await client.post(f"{REQUESTS}/{request_id}/dispute", json={"reason": "x"}, headers=callers("x", "consumer"))
    ).status_code == 403
    # a steward cannot submit requests; no token at all is 401
    assert (
        await client.post(REQUESTS, json=ask("population.person-extended", ["name"]), headers=callers("psb", "steward"))
    ).status_code == 403
    assert (await client.post(REQUESTS, json=ask("population.person-extended", ["name"]))).status_code == 401
    # another consumer department cannot even read the request
    assert (await client.get(f"{REQUESTS}/{request_id}", headers=callers("other", "consumer"))).status_code == 403
    confirmed = await client.post(f"{REQUESTS}/{request_id}/confirm", headers=callers("bdb", "coordinator"))
    assert confirmed.status_code == 200


async def test_unknown_fields_are_422_naming_them(client, callers, conditional) -> None:
    response = await client.post(
        REQUESTS,
        json=ask("population.person-extended", ["name", "salary", "blood_type"]),
        headers=callers("mca", "consumer"),
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/unknown-fields")
    assert problem["unknown_fields"] == ["salary", "blood_type"]
    assert "salary" in problem["detail"]
    assert {param["name"] for param in problem["invalid_params"]} == {"body.fields"}


async def test_row_scope_fields_must_belong_to_the_resource(client, callers, conditional) -> None:
    consumer = callers("mca", "consumer")
    bad = await client.post(
        REQUESTS,
        json=ask("population.person-extended", ["name"], row_scope={"district": ["1101"]}),
        headers=consumer,
    )
    assert bad.status_code == 422
    assert bad.json()["unknown_fields"] == ["district"]
    assert bad.json()["invalid_params"][0]["name"] == "body.row_scope"
    empty = await client.post(
        REQUESTS,
        json=ask("population.person-extended", ["name"], row_scope={"household_region_code": []}),
        headers=consumer,
    )
    assert empty.status_code == 422
    good = await client.post(
        REQUESTS,
        json=ask("population.person-extended", ["name"], row_scope={"household_region_code": ["1101"]}),
        headers=consumer,
    )
    assert good.status_code == 201
    assert good.json()["row_scope"] == {"household_region_code": ["1101"]}


async def test_malformed_requests_are_422(client, callers, conditional) -> None:
    consumer = callers("mca", "consumer")
    for payload in (
        {"resource": "population.person-extended", "fields": [], "purpose": "x"},
        {"resource": "population.person-extended", "fields": ["name", "name"], "purpose": "x"},
        {"resource": "population.person-extended", "fields": ["name"], "purpose": ""},
        {"resource": "population.person-extended", "fields": ["name"], "purpose": "x", "duration_days": 0},
        {"resource": "population.person-extended", "fields": ["name"], "purpose": "x", "colour": "red"},
    ):
        response = await client.post(REQUESTS, json=payload, headers=consumer)
        assert response.status_code == 422, payload
    too_long = await client.post(
        REQUESTS, json=ask("population.person-extended", ["name"], duration_days=100_000), headers=consumer
    )
    assert too_long.status_code == 422
    assert too_long.json()["type"].endswith("/duration-too-long")


async def test_retired_resource_is_409_and_unknown_is_404(client, callers, add_resource, fake_catalog) -> None:
    await add_resource("population.old", status="retired")
    consumer = callers("mca", "consumer")
    retired = await client.post(REQUESTS, json=ask("population.old", ["name"]), headers=consumer)
    assert retired.status_code == 409
    assert retired.json()["type"].endswith("/resource-not-shareable")
    unknown = await client.post(REQUESTS, json=ask("population.nothing", ["name"]), headers=consumer)
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("/resource-not-found")


async def test_unknown_resource_is_asked_of_the_catalog_with_the_callers_token(
    client, callers, fake_catalog, make_document
) -> None:
    fake_catalog.documents["population.fresh"] = make_document("population.fresh", share_type="unconditional")
    consumer = callers("mca", "consumer")
    response = await client.post(REQUESTS, json=ask("population.fresh", ["name"]), headers=consumer)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "granted"
    assert fake_catalog.calls[-1] == ("population.fresh", consumer["Authorization"])
    calls = len(fake_catalog.calls)
    # now known to the read model: no second look-up
    again = await client.post(REQUESTS, json=ask("population.fresh", ["sex"]), headers=consumer)
    assert again.status_code == 201
    assert len(fake_catalog.calls) == calls


async def test_idempotency_key_replays_the_first_answer(client, callers, unconditional) -> None:
    consumer = {**callers("mca", "consumer"), "Idempotency-Key": "request-1"}
    first = await client.post(REQUESTS, json=ask("population.person", ["name"]), headers=consumer)
    second = await client.post(REQUESTS, json=ask("population.person", ["name"]), headers=consumer)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    listed = await client.get(REQUESTS, headers=consumer)
    assert len(listed.json()["items"]) == 1
    different = await client.post(REQUESTS, json=ask("population.person", ["sex"]), headers=consumer)
    assert different.status_code == 422
    assert different.json()["type"].endswith("/idempotency-key-reused")


async def test_listing_shows_each_party_its_own(client, callers, conditional, add_resource) -> None:
    await add_resource("legal-entity.company", provider="samr", share_type="conditional", fields=["uscc", "name"])
    mca = callers("mca", "consumer")
    hrss = callers("hrss", "consumer")
    mine = (await client.post(REQUESTS, json=ask("population.person-extended", ["name"]), headers=mca)).json()["id"]
    theirs = (await client.post(REQUESTS, json=ask("legal-entity.company", ["name"]), headers=hrss)).json()["id"]

    def ids(response):
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert ids(await client.get(REQUESTS, headers=mca)) == {mine}
    assert ids(await client.get(REQUESTS, headers=hrss)) == {theirs}
    assert ids(await client.get(REQUESTS, headers=callers("psb", "steward"))) == {mine}
    assert ids(await client.get(REQUESTS, headers=callers("samr", "steward"))) == {theirs}
    assert ids(await client.get(REQUESTS, headers=callers("bdb", "coordinator"))) >= {mine, theirs}
    assert ids(await client.get(REQUESTS, params={"status": "granted"}, headers=mca)) == set()
    assert ids(await client.get(REQUESTS, params={"overdue": "false"}, headers=mca)) == {mine}
    assert (await client.get(REQUESTS, headers=callers("psb", "registrar"))).status_code == 403


async def test_pagination_of_requests(client, callers, unconditional) -> None:
    consumer = callers("mca", "consumer")
    created = [
        (await client.post(REQUESTS, json=ask("population.person", ["name"]), headers=consumer)).json()["id"]
        for _ in range(5)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(REQUESTS, params=params, headers=consumer)).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created
    bad = await client.get(REQUESTS, params={"cursor": "!!!"}, headers=consumer)
    assert bad.status_code == 422


async def test_text_the_database_cannot_store_is_422_not_500(client, callers, unconditional) -> None:
    consumer = callers("mca", "consumer")
    response = await client.post(
        REQUESTS, json=ask("population.person", ["name"], purpose="a\u0000b"), headers=consumer
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/unstorable-input")
    listed = await client.get(REQUESTS, params={"resource": "x\u0000"}, headers=consumer)
    assert listed.status_code == 422
