from __future__ import annotations

from datetime import datetime, timedelta

from onesource.exchange.sweeper import sweep

REQUESTS = "/v1/share-requests"


async def test_overdue_requests_are_flagged_escalated_once_and_counted(
    client, callers, add_resource, exchange_app, events
) -> None:
    await add_resource("population.person-extended", provider="psb", share_type="conditional")
    consumer = callers("mca", "consumer")
    body = {"resource": "population.person-extended", "fields": ["name"], "purpose": "审核"}
    late = (await client.post(REQUESTS, json=body, headers=consumer)).json()
    answered = (await client.post(REQUESTS, json=body, headers=consumer)).json()
    await client.post(
        f"{REQUESTS}/{answered['id']}/decision", json={"approve": True}, headers=callers("psb", "steward")
    )
    due = datetime.fromisoformat(late["due_at"])

    async with exchange_app.state.sessionmaker() as session, session.begin():
        before = await sweep(session, due - timedelta(seconds=1))
    assert late["id"] not in before.escalated

    async with exchange_app.state.sessionmaker() as session, session.begin():
        after = await sweep(session, due + timedelta(seconds=1))
    assert late["id"] in after.escalated
    assert answered["id"] not in after.escalated
    async with exchange_app.state.sessionmaker() as session, session.begin():
        again = await sweep(session, due + timedelta(days=3))
    assert late["id"] not in again.escalated

    flagged = (await client.get(f"{REQUESTS}/{late['id']}", headers=callers("bdb", "coordinator"))).json()
    assert flagged["overdue"] is True
    assert flagged["status"] == "pending_provider"
    assert flagged["escalated_at"] is not None
    assert flagged["history"][-1]["action"] == "escalated"
    assert flagged["history"][-1]["actor"] == "exchange"
    escalations = [event for event in await events(late["id"]) if event["type"].endswith(".escalated.v1")]
    assert len(escalations) == 1
    assert escalations[0]["type"] == "gov.onesource.exchange.share-request.escalated.v1"
    assert escalations[0]["data"]["overdue"] is True

    overdue = await client.get(REQUESTS, params={"overdue": "true"}, headers=callers("bdb", "coordinator"))
    assert [item["id"] for item in overdue.json()["items"]] == [late["id"]]

    # the provider may still answer an overdue request
    decided = await client.post(
        f"{REQUESTS}/{late['id']}/decision",
        json={"approve": False, "reason": "late, but no"},
        headers=callers("psb", "steward"),
    )
    assert decided.status_code == 200
    assert decided.json()["overdue"] is True
