from __future__ import annotations

import pytest

CORRECTIONS = "/v1/corrections"


@pytest.fixture
async def granted(client, callers, add_resource) -> dict:
    await add_resource("population.person", provider="psb", share_type="unconditional")
    response = await client.post(
        "/v1/share-requests",
        json={"resource": "population.person", "fields": ["id_number", "name"], "purpose": "审核"},
        headers=callers("mca", "consumer"),
    )
    return response.json()


def report(field: str = "name", **extra) -> dict:
    return {
        "resource": "population.person",
        "record_key": "11010519491231002X",
        "field": field,
        "reported_value": "张三",
        "suggested_value": "张叁",
        "note": "户籍窗口核对为张叁",
        **extra,
    }


async def test_correction_loop(client, callers, granted, events) -> None:
    mca = callers("mca", "consumer")
    psb = callers("psb", "steward")
    created = await client.post(CORRECTIONS, json=report(), headers=mca)
    assert created.status_code == 201, created.text
    correction = created.json()
    assert correction["status"] == "open"
    assert correction["provider"] == "psb"
    assert correction["reporter_department"] == "mca"

    # the owner's stewards and the reporter see it; others do not
    assert [item["id"] for item in (await client.get(CORRECTIONS, headers=psb)).json()["items"]] == [correction["id"]]
    assert [item["id"] for item in (await client.get(CORRECTIONS, headers=mca)).json()["items"]] == [correction["id"]]
    assert (await client.get(CORRECTIONS, headers=callers("samr", "steward"))).json()["items"] == []
    assert (
        await client.get(f"{CORRECTIONS}/{correction['id']}", headers=callers("hrss", "consumer"))
    ).status_code == 403

    url = f"{CORRECTIONS}/{correction['id']}"
    # only the owner's steward answers
    assert (await client.post(f"{url}/resolve", json={"note": "x"}, headers=mca)).status_code == 403
    assert (
        await client.post(f"{url}/resolve", json={"note": "x"}, headers=callers("samr", "steward"))
    ).status_code == 403
    assert (await client.post(f"{url}/resolve", json={"note": ""}, headers=psb)).status_code == 422
    resolved = await client.post(f"{url}/resolve", json={"note": "corrected in the registry"}, headers=psb)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolution_note"] == "corrected in the registry"
    assert resolved.json()["resolved_by"] == "psb-steward"
    assert (await client.post(f"{url}/dismiss", json={"note": "x"}, headers=psb)).status_code == 409

    types = [event["type"] for event in await events(correction["id"])]
    assert types == [
        "gov.onesource.exchange.correction.reported.v1",
        "gov.onesource.exchange.correction.resolved.v1",
    ]


async def test_dismissal(client, callers, granted) -> None:
    created = (await client.post(CORRECTIONS, json=report(), headers=callers("mca", "consumer"))).json()
    dismissed = await client.post(
        f"{CORRECTIONS}/{created['id']}/dismiss",
        json={"note": "the registry is right"},
        headers=callers("psb", "steward"),
    )
    assert dismissed.status_code == 200
    assert dismissed.json()["status"] == "dismissed"
    filtered = await client.get(CORRECTIONS, params={"status": "open"}, headers=callers("psb", "steward"))
    assert filtered.json()["items"] == []


async def test_reporting_needs_a_grant_covering_the_field(client, callers, granted) -> None:
    mca = callers("mca", "consumer")
    assert (await client.post(CORRECTIONS, json=report("sex"), headers=mca)).status_code == 403
    assert (await client.post(CORRECTIONS, json=report(), headers=callers("hrss", "consumer"))).status_code == 403
    unknown = await client.post(CORRECTIONS, json=report("salary"), headers=mca)
    assert unknown.status_code == 422
    assert unknown.json()["type"].endswith("/unknown-field")
    assert (await client.post(CORRECTIONS, json=report(note=""), headers=mca)).status_code == 422
    missing = await client.post(CORRECTIONS, json={**report(), "resource": "population.none"}, headers=mca)
    assert missing.status_code == 404
