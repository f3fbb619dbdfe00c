from __future__ import annotations

from datetime import datetime, timedelta

from onesource.exchange.sweeper import sweep

REQUESTS = "/v1/share-requests"


async def test_statistics_per_provider_and_consumer(client, callers, add_resource, exchange_app) -> None:
    provider = "stat-psb"
    await add_resource("stat.open", provider=provider, share_type="unconditional")
    await add_resource("stat.conditional", provider=provider, share_type="conditional")
    await add_resource("stat.closed", provider=provider, share_type="not_shared", legal_basis="law")
    consumer = callers("stat-mca", "consumer")
    steward = callers(provider, "steward")

    async def submit(resource: str) -> dict:
        body = {"resource": resource, "fields": ["name"], "purpose": "审核"}
        response = await client.post(REQUESTS, json=body, headers=consumer)
        assert response.status_code == 201
        return response.json()

    await submit("stat.open")
    await submit("stat.closed")
    approved = await submit("stat.conditional")
    rejected = await submit("stat.conditional")
    late = await submit("stat.conditional")
    await client.post(f"{REQUESTS}/{approved['id']}/decision", json={"approve": True}, headers=steward)
    await client.post(f"{REQUESTS}/{approved['id']}/confirm", headers=callers("bdb", "coordinator"))
    await client.post(f"{REQUESTS}/{rejected['id']}/decision", json={"approve": False, "reason": "no"}, headers=steward)
    async with exchange_app.state.sessionmaker() as session, session.begin():
        await sweep(session, datetime.fromisoformat(late["due_at"]) + timedelta(seconds=1))

    assert (await client.get("/v1/statistics", headers=consumer)).status_code == 403
    assert (await client.get("/v1/statistics", headers=steward)).status_code == 403
    response = await client.get("/v1/statistics", headers=callers("bdb", "coordinator"))
    assert response.status_code == 200, response.text
    body = response.json()
    [as_provider] = [entry for entry in body["providers"] if entry["department"] == provider]
    [as_consumer] = [entry for entry in body["consumers"] if entry["department"] == "stat-mca"]
    for figures in (as_provider, as_consumer):
        assert figures["requests"] == 5
        assert figures["requests_by_status"] == {"granted": 2, "refused": 1, "rejected": 1, "pending_provider": 1}
        assert figures["decided"] == 2
        assert figures["median_decision_hours"] is not None
        assert figures["median_decision_hours"] >= 0
        assert figures["mean_decision_hours"] >= 0
        assert figures["overdue"] == 1
        assert figures["active_grants"] == 2
        assert figures["events_delivered"] == 0
    assert (await client.get("/v1/statistics", headers=callers("root", "admin"))).status_code == 200
