from __future__ import annotations

import json

import httpx

from onesource.gateway.departments.uscc import check_character

DEPARTMENTS = "/api/identity/v1/departments"
GOOD = "91110000600037341L"


async def test_admin_registers_a_department_and_anyone_authenticated_reads_it(client, admin, identity, events) -> None:
    response = await client.post(
        DEPARTMENTS, json={"code": "civil-affairs", "name": "市民政局", "uscc": GOOD}, headers=admin
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["code"] == "civil-affairs"
    assert body["name"] == "市民政局"
    assert body["uscc"] == GOOD
    assert body["created_at"]

    consumer = await identity.client("civil-affairs", ["consumer"])
    headers = await identity.bearer(consumer["client_id"], consumer["client_secret"])
    read = await client.get(f"{DEPARTMENTS}/civil-affairs", headers=headers)
    assert read.status_code == 200
    assert read.json() == body

    [event] = await events("civil-affairs")
    assert event["type"] == "gov.onesource.identity.department.registered.v1"
    assert event["source"] == "/onesource/gateway"
    assert event["subject"] == "civil-affairs"
    assert event["data"] == {"code": "civil-affairs", "name": "市民政局", "uscc": GOOD}


async def test_lower_case_uscc_is_stored_upper_case(client, admin) -> None:
    response = await client.post(DEPARTMENTS, json={"code": "lower", "name": "x", "uscc": GOOD.lower()}, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["uscc"] == GOOD


async def test_duplicate_code_or_uscc_is_409(client, admin, identity) -> None:
    await identity.department("first", "600037341")
    same_code = await client.post(
        DEPARTMENTS, json={"code": "first", "name": "again", "uscc": "91110000MA0000001L"}, headers=admin
    )
    assert same_code.status_code == 409
    assert same_code.json()["type"].endswith("/duplicate-department")
    assert "first" in same_code.json()["detail"]
    same_uscc = await client.post(DEPARTMENTS, json={"code": "second", "name": "x", "uscc": GOOD}, headers=admin)
    assert same_uscc.status_code == 409
    assert same_uscc.json()["type"].endswith("/duplicate-department")
    assert same_uscc.json()["code"] == "first"


async def test_bad_uscc_is_422_naming_the_field(client, admin) -> None:
    response = await client.post(
        DEPARTMENTS, json={"code": "bad", "name": "x", "uscc": "91110000600037341M"}, headers=admin
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/invalid-uscc")
    assert problem["invalid_params"][0]["name"] == "body.uscc"
    assert "check character" in problem["invalid_params"][0]["reason"]
    missing = await client.get(f"{DEPARTMENTS}/bad", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/department-not-found")


async def test_bad_code_is_422(client, admin) -> None:
    response = await client.post(DEPARTMENTS, json={"code": "Bad Code", "name": "x", "uscc": GOOD}, headers=admin)
    assert response.status_code == 422
    assert response.json()["invalid_params"][0]["name"] == "body.code"


async def test_malformed_json_is_a_422_problem(client, admin) -> None:
    response = await client.post(
        DEPARTMENTS, content=b'{"code": "x", ', headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/malformed-json")


async def test_only_admins_register_departments(client, identity) -> None:
    await identity.department("consumers", "600037341")
    consumer = await identity.client("consumers", ["consumer", "steward", "coordinator"])
    headers = await identity.bearer(consumer["client_id"], consumer["client_secret"])
    payload = {"code": "sneaky", "name": "x", "uscc": "91110000MA0000001L"}
    forbidden = await client.post(DEPARTMENTS, json=payload, headers=headers)
    assert forbidden.status_code == 403
    assert forbidden.json()["type"].endswith("/forbidden")
    anonymous = await client.post(DEPARTMENTS, json=payload)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    garbage = await client.post(DEPARTMENTS, json=payload, headers={"Authorization": "Bearer not.a.token"})
    assert garbage.status_code == 401
    assert (await client.get(DEPARTMENTS)).status_code == 401


async def test_list_is_paginated_by_cursor(client, admin, identity) -> None:
    for index, code in enumerate(["page-a", "page-b", "page-c"]):
        body = f"9111000060003734{index}"
        await client.post(
            DEPARTMENTS, json={"code": code, "name": code, "uscc": body + check_character(body)}, headers=admin
        )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await client.get(DEPARTMENTS, params=params, headers=admin)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [item["code"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert {"page-a", "page-b", "page-c", "platform"} <= set(seen)
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))
    assert pages >= 2


async def test_list_limits_are_enforced(client, admin) -> None:
    too_many = await client.get(DEPARTMENTS, params={"limit": "201"}, headers=admin)
    assert too_many.status_code == 422
    assert too_many.json()["invalid_params"][0]["name"] == "query.limit"
    bad_cursor = await client.get(DEPARTMENTS, params={"cursor": "//8"}, headers=admin)
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["type"].endswith("/invalid-cursor")


async def test_idempotency_key_replays_the_first_answer(client, admin, events) -> None:
    headers = {**admin, "Idempotency-Key": "dept-once"}
    payload = {"code": "once", "name": "x", "uscc": GOOD}
    first = await client.post(DEPARTMENTS, json=payload, headers=headers)
    again = await client.post(
        DEPARTMENTS, content=json.dumps(payload, indent=2), headers={**headers, "Content-Type": "application/json"}
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(await events("once")) == 1
    other = await client.post(DEPARTMENTS, json={**payload, "code": "twice"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")


async def test_idempotency_keys_belong_to_their_caller(client: httpx.AsyncClient, admin, identity) -> None:
    await identity.department("callers", "600037341")
    other_admin = await identity.client("callers", ["admin"])
    other = await identity.bearer(other_admin["client_id"], other_admin["client_secret"])
    key = {"Idempotency-Key": "shared-key"}
    first = await client.post(
        DEPARTMENTS, json={"code": "by-first", "name": "x", "uscc": "91110000MA0000001L"}, headers={**admin, **key}
    )
    assert first.status_code == 201
    second = await client.post(
        DEPARTMENTS, json={"code": "by-second", "name": "x", "uscc": "91110000MA0000002P"}, headers={**other, **key}
    )
    assert second.status_code == 201, second.text
    assert second.json()["code"] == "by-second"


async def test_nul_in_a_department_or_client_is_unstorable_input(client, admin, identity) -> None:
    # Issue 20 §5: these answered 500.
    refused = await client.post(
        DEPARTMENTS, json={"code": "nul-dept", "name": "民政\x00局", "uscc": GOOD}, headers=admin
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/unstorable-input")
    await identity.department("nul-dept", "600037341")
    named = await client.post(
        "/api/identity/v1/clients",
        json={"department": "nul-dept", "name": "a\x00b", "roles": ["consumer"]},
        headers=admin,
    )
    assert named.status_code == 422, named.text
    assert named.json()["type"].endswith("/unstorable-input")
    for path in (f"{DEPARTMENTS}/nul%00dept", "/api/identity/v1/clients/a%00b", "/api/audit/v1/records/a%00/b"):
        response = await client.get(path, headers=admin)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["type"].endswith("/unstorable-input")
