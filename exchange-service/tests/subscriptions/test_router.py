from __future__ import annotations

import pytest

SUBSCRIPTIONS = "/v1/subscriptions"


@pytest.fixture
async def granted(client, callers, add_resource) -> dict:
    await add_resource("population.person", provider="psb", share_type="unconditional")
    response = await client.post(
        "/v1/share-requests",
        json={"resource": "population.person", "fields": ["name"], "purpose": "审核"},
        headers=callers("mca", "consumer"),
    )
    return response.json()


async def test_subscribing_needs_an_active_grant(client, callers, granted) -> None:
    body = {"resource": "population.person", "delivery": "kafka"}
    without = await client.post(SUBSCRIPTIONS, json=body, headers=callers("hrss", "consumer"))
    assert without.status_code == 403
    assert without.json()["type"].endswith("/no-active-grant")
    steward = await client.post(SUBSCRIPTIONS, json=body, headers=callers("mca", "steward"))
    assert steward.status_code == 403

    created = await client.post(SUBSCRIPTIONS, json=body, headers=callers("mca", "consumer"))
    assert created.status_code == 201, created.text
    subscription = created.json()
    assert subscription["topic"] == "onesource.delivery.mca.population.person"
    assert subscription["grant_id"] == granted["grant_id"]
    assert subscription["status"] == "active"
    assert subscription["provider"] == "psb"

    duplicate = await client.post(SUBSCRIPTIONS, json=body, headers=callers("mca", "consumer"))
    assert duplicate.status_code == 409
    feed = await client.post(
        SUBSCRIPTIONS, json={"resource": "population.person", "delivery": "feed"}, headers=callers("mca", "consumer")
    )
    assert feed.status_code == 201
    assert feed.json()["topic"] is None


async def test_a_revoked_grant_allows_no_new_subscription(client, callers, granted) -> None:
    await client.post(
        f"/v1/grants/{granted['grant_id']}/revoke", json={"reason": "done"}, headers=callers("psb", "steward")
    )
    response = await client.post(
        SUBSCRIPTIONS, json={"resource": "population.person"}, headers=callers("mca", "consumer")
    )
    assert response.status_code == 403


async def test_only_the_subscriber_reads_and_cancels(client, callers, granted) -> None:
    mca = callers("mca", "consumer")
    subscription = (await client.post(SUBSCRIPTIONS, json={"resource": "population.person"}, headers=mca)).json()
    url = f"{SUBSCRIPTIONS}/{subscription['id']}"

    assert (await client.get(url, headers=mca)).status_code == 200
    assert (await client.get(url, headers=callers("hrss", "consumer"))).status_code == 403
    # the provider's steward and even an admin may not read the subscriber's feed
    for stranger in (callers("hrss", "consumer"), callers("psb", "steward"), callers("root", "admin")):
        feed = await client.get(f"{url}/events", headers=stranger)
        assert feed.status_code == 403, stranger
    own = await client.get(f"{url}/events", headers=mca)
    assert own.status_code == 200
    assert own.json()["items"] == []
    assert own.json()["next_cursor"]
    assert (await client.get(f"{url}/events", params={"after": "bm90LWEtbnVtYmVy"}, headers=mca)).status_code == 422

    listed = await client.get(SUBSCRIPTIONS, headers=mca)
    assert [item["id"] for item in listed.json()["items"]] == [subscription["id"]]
    assert (await client.get(SUBSCRIPTIONS, headers=callers("hrss", "consumer"))).json()["items"] == []

    assert (await client.delete(url, headers=callers("hrss", "consumer"))).status_code == 403
    assert (await client.delete(url, headers=mca)).status_code == 204
    assert (await client.get(url, headers=mca)).json()["status"] == "cancelled"
    assert (await client.delete(url, headers=mca)).status_code == 409
    assert (await client.get(f"{SUBSCRIPTIONS}/missing/events", headers=mca)).status_code == 404
