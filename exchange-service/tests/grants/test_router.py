from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onesource.exchange.sweeper import sweep

REQUESTS = "/v1/share-requests"
GRANTS = "/v1/grants"


@pytest.fixture
async def resources(add_resource):
    await add_resource("population.person", provider="psb", share_type="unconditional")
    await add_resource("legal-entity.company", provider="samr", share_type="unconditional", fields=["uscc", "name"])


async def grant(client, callers, department: str, resource: str, fields: list[str], **extra) -> dict:
    response = await client.post(
        REQUESTS,
        json={"resource": resource, "fields": fields, "purpose": "审核", **extra},
        headers=callers(department, "consumer"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "granted"
    found = await client.get(f"{GRANTS}/{response.json()['grant_id']}", headers=callers(department, "consumer"))
    return found.json()


def ids(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_each_party_sees_its_own_grants(client, callers, resources) -> None:
    mca = await grant(client, callers, "mca", "population.person", ["name"])
    hrss = await grant(client, callers, "hrss", "legal-entity.company", ["name"])
    assert ids(await client.get(GRANTS, headers=callers("mca", "consumer"))) == {mca["id"]}
    assert ids(await client.get(GRANTS, headers=callers("hrss", "consumer"))) == {hrss["id"]}
    assert ids(await client.get(GRANTS, headers=callers("psb", "steward"))) == {mca["id"]}
    assert ids(await client.get(GRANTS, headers=callers("samr", "steward"))) == {hrss["id"]}
    assert ids(await client.get(GRANTS, headers=callers("bdb", "coordinator"))) >= {mca["id"], hrss["id"]}
    assert ids(await client.get(GRANTS, headers=callers("root", "admin"))) >= {mca["id"], hrss["id"]}
    filtered = await client.get(
        GRANTS, params={"resource": "legal-entity.company"}, headers=callers("bdb", "coordinator")
    )
    assert ids(filtered) == {hrss["id"]}
    # another department's grant is not readable, and a registrar sees no grants at all
    assert (await client.get(f"{GRANTS}/{hrss['id']}", headers=callers("mca", "consumer"))).status_code == 403
    assert (await client.get(GRANTS, headers=callers("psb", "registrar"))).status_code == 403
    assert (await client.get(f"{GRANTS}/nope", headers=callers("mca", "consumer"))).status_code == 404


async def test_the_gateway_acting_for_a_department_lists_only_that_departments_grants(
    client, callers, resources
) -> None:
    mca = await grant(client, callers, "mca", "population.person", ["name"])
    hrss = await grant(client, callers, "hrss", "legal-entity.company", ["name"])
    gateway_for_mca = callers("mca", "gateway", client_id="gateway")
    assert ids(await client.get(GRANTS, headers=gateway_for_mca)) == {mca["id"]}
    assert ids(await client.get(GRANTS, params={"department": "hrss"}, headers=gateway_for_mca)) == set()
    assert (await client.get(f"{GRANTS}/{mca['id']}", headers=gateway_for_mca)).status_code == 200
    assert (await client.get(f"{GRANTS}/{hrss['id']}", headers=gateway_for_mca)).status_code == 403
    # the gateway role reads; it never revokes
    revoke = await client.post(f"{GRANTS}/{mca['id']}/revoke", json={"reason": "x"}, headers=gateway_for_mca)
    assert revoke.status_code == 403


async def test_revocation_by_the_providers_steward_emits_grant_revoked(client, callers, resources, events) -> None:
    issued = await grant(client, callers, "mca", "population.person", ["name", "sex"], row_scope={"sex": ["1"]})
    url = f"{GRANTS}/{issued['id']}/revoke"
    body = {"reason": "purpose fulfilled"}
    assert (await client.post(url, json=body, headers=callers("mca", "consumer"))).status_code == 403
    assert (await client.post(url, json=body, headers=callers("samr", "steward"))).status_code == 403
    assert (await client.post(url, json={"reason": ""}, headers=callers("psb", "steward"))).status_code == 422
    revoked = await client.post(url, json=body, headers=callers("psb", "steward"))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revoked_reason"] == "purpose fulfilled"
    assert revoked.json()["revoked_by"] == "psb-steward"
    again = await client.post(url, json=body, headers=callers("bdb", "coordinator"))
    assert again.status_code == 409
    issued_event, revoked_event = await events(issued["id"])
    assert issued_event["type"] == "gov.onesource.exchange.grant.issued.v1"
    assert revoked_event["type"] == "gov.onesource.exchange.grant.revoked.v1"
    assert revoked_event["subject"] == issued["id"]
    assert revoked_event["data"]["status"] == "revoked"
    assert revoked_event["data"]["revoked_reason"] == "purpose fulfilled"
    assert revoked_event["data"]["row_scope"] == {"sex": ["1"]}
    assert revoked_event["data"]["fields"] == ["name", "sex"]


async def test_coordinators_and_admins_may_revoke(client, callers, resources) -> None:
    for revoker in (callers("bdb", "coordinator"), callers("root", "admin")):
        issued = await grant(client, callers, "mca", "population.person", ["name"])
        response = await client.post(f"{GRANTS}/{issued['id']}/revoke", json={"reason": "audit"}, headers=revoker)
        assert response.status_code == 200


async def test_grants_expire_once_with_an_event(client, callers, resources, exchange_app, events) -> None:
    short = await grant(client, callers, "mca", "population.person", ["name"], duration_days=1)
    long = await grant(client, callers, "mca", "population.person", ["sex"], duration_days=30)
    later = datetime.now(UTC) + timedelta(days=2)
    async with exchange_app.state.sessionmaker() as session, session.begin():
        outcome = await sweep(session, later)
    assert short["id"] in outcome.expired
    assert long["id"] not in outcome.expired
    async with exchange_app.state.sessionmaker() as session, session.begin():
        assert short["id"] not in (await sweep(session, later)).expired
    expired = (await client.get(f"{GRANTS}/{short['id']}", headers=callers("mca", "consumer"))).json()
    assert expired["status"] == "expired"
    assert expired["expired_at"] is not None
    types = [event["type"] for event in await events(short["id"])]
    assert types == ["gov.onesource.exchange.grant.issued.v1", "gov.onesource.exchange.grant.expired.v1"]
    assert (await events(short["id"]))[-1]["data"]["status"] == "expired"
    active = ids(await client.get(GRANTS, params={"status": "active"}, headers=callers("mca", "consumer")))
    assert active == {long["id"]}
