"""Embargo and release: embargoed observations reach only pre-release readers, marked EMBARGO_TIME; at release the
release event and a revision event per revised series are written once; a release due while the service was down
fires when it comes back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from onesource.kit.testing.plugin import api_client, running_app
from onesource.macroeconomy.main import create_app
from onesource.macroeconomy.releases.loop import release_once

CSV = "application/vnd.sdmx.data+csv;version=2.0.0"
LOADS = "/v1/dataflows/GDP_Q/loads"


def at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def observations(message: dict) -> list[list]:
    return [
        obs for series in message["data"]["dataSets"][0]["series"].values() for obs in series["observations"].values()
    ]


async def test_embargoed_observations_reach_only_pre_release_readers(
    client, registrar, gateway, gateway_prerelease, gdp_csv
) -> None:
    released = gdp_csv(("Q", "330000", "GDP", "CUR", "2025-Q1", "100", ""))
    assert (await client.post(LOADS, content=released, headers={**registrar, "Content-Type": CSV})).status_code == 201
    coming = gdp_csv(("Q", "330000", "GDP", "CUR", "2025-Q2", "110", "P"))
    response = await client.post(
        f"{LOADS}?release_at={at(3600)}", content=coming, headers={**registrar, "Content-Type": CSV}
    )
    assert response.json()["status"] == "scheduled"
    key = "/v1/data/GDP_Q/Q.330000.GDP.CUR"
    public = (await client.get(key, headers=gateway)).json()
    assert len(observations(public)) == 1
    for reader in (registrar, gateway_prerelease):
        message = (await client.get(key, headers=reader)).json()
        found = observations(message)
        assert len(found) == 2
        embargo = next(
            a for a in message["data"]["structures"][0]["attributes"]["observation"] if a["id"] == "EMBARGO_TIME"
        )
        position = 1 + [a["id"] for a in message["data"]["structures"][0]["attributes"]["observation"]].index(
            "EMBARGO_TIME"
        )
        marked = [obs for obs in found if len(obs) > position and obs[position] is not None]
        assert len(marked) == 1
        assert embargo["values"][marked[0][position]]["value"].startswith(str(datetime.now(UTC).year)[:2])
    csv = (await client.get(key, headers={**gateway, "Accept": CSV})).text
    assert "2025-Q2" not in csv
    calendar = (await client.get("/v1/releases?flow=GDP_Q", headers=gateway)).json()["items"]
    assert [item["status"] for item in calendar] == ["scheduled", "released"]


async def test_a_release_writes_its_events_once(client, registrar, gateway, gdp_csv, macroeconomy_app, events) -> None:
    first = gdp_csv(("Q", "340000", "GDP", "CUR", "2025-Q1", "100", "P"))
    await client.post(LOADS, content=first, headers={**registrar, "Content-Type": CSV})
    revision = gdp_csv(
        ("Q", "340000", "GDP", "CUR", "2025-Q1", "101", ""), ("Q", "340000", "GDP", "CUR", "2025-Q2", "105", "P")
    )
    response = await client.post(
        f"{LOADS}?release_at={at(1.0)}", content=revision, headers={**registrar, "Content-Type": CSV}
    )
    vintage = response.json()["vintage"]
    assert await release_once(macroeconomy_app.state.sessionmaker) == []
    await asyncio.sleep(1.2)
    assert await release_once(macroeconomy_app.state.sessionmaker) == [vintage]
    assert await release_once(macroeconomy_app.state.sessionmaker) == []
    released = [e for e in await events("GDP_Q") if e["data"]["record"]["vintage"] == vintage]
    assert len(released) == 1
    assert released[0]["type"] == "gov.onesource.macroeconomy.release.published.v1"
    assert released[0]["data"]["record"]["status"] == "released"
    revised = await events("GDP_Q:Q.340000.GDP.CUR")
    assert [e["type"] for e in revised] == ["gov.onesource.macroeconomy.series.revised.v1"]
    assert revised[0]["data"]["record"]["time_periods"] == ["2025-Q1"]
    assert revised[0]["data"]["record"]["ref_area"] == "340000"
    message = (await client.get("/v1/data/GDP_Q/Q.340000.GDP.CUR", headers=gateway)).json()
    assert len(observations(message)) == 2


async def test_a_release_due_while_the_service_was_down_fires_when_it_comes_back(
    macroeconomy_app, settings, tokens, registrar, gdp_csv
) -> None:
    body = gdp_csv(("Q", "130000", "GDP", "CUR", "2025-Q3", "100", "P"))
    async with api_client(macroeconomy_app) as committing:
        response = await committing.post(
            f"{LOADS}?release_at={at(0.5)}", content=body, headers={**registrar, "Content-Type": CSV}
        )
    assert response.status_code == 201, response.text
    vintage = response.json()["vintage"]
    await asyncio.sleep(0.7)  # due now; this app's loop next looks in an hour: as if the service had been down
    engine = macroeconomy_app.state.engine

    async def released_at():
        async with engine.connect() as connection:
            return (
                await connection.execute(text("SELECT released_at FROM vintage WHERE id = :id"), {"id": vintage})
            ).scalar_one()

    assert await released_at() is None
    async with running_app(create_app(settings.model_copy(update={"relay_enabled": False})), tokens):
        for _ in range(50):
            if await released_at() is not None:
                break
            await asyncio.sleep(0.1)
    assert await released_at() is not None
    async with engine.connect() as connection:
        count = (
            await connection.execute(
                text(
                    "SELECT count(*) FROM outbox_event WHERE topic = 'onesource.macroeconomy.release.v1' "
                    "AND (payload->'data'->'record'->>'vintage')::int = :id"
                ),
                {"id": vintage},
            )
        ).scalar_one()
    assert count == 1
