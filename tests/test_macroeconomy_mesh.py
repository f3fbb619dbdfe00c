"""The macroeconomic registry in the running mesh: the demo loads are there, and read through the gateway."""

from __future__ import annotations

import csv
import io
import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx

from onesource.macroeconomy.demo import END_YEAR
from tests.conftest import Mesh

JSON = "application/vnd.sdmx.data+json;version=2.0.0"
CSV = "application/vnd.sdmx.data+csv;version=2.0.0"


def test_the_statistics_bureau_reads_its_demo_data_through_the_gateway(mesh: Mesh) -> None:
    headers = mesh.bearer("stats-registrar", purpose="registry-maintenance")
    calendar = httpx.get(f"{mesh.gateway}/api/macroeconomy/v1/releases?flow=GDP_Q", headers=headers, timeout=30)
    assert calendar.status_code == 200, calendar.text
    statuses = [item["status"] for item in calendar.json()["items"]]
    assert "scheduled" in statuses
    assert "released" in statuses
    path = f"{mesh.gateway}/api/macroeconomy/v1/data/GDP_Q/Q.330000.GDP.CUR"
    as_json = httpx.get(path, headers=headers, params={"includeHistory": "true"}, timeout=30)
    assert as_json.status_code == 200, as_json.text
    assert len(as_json.json()["data"]["dataSets"]) >= 3  # history, this year, the revision (and the embargoed one)
    as_csv = httpx.get(path, headers={**headers, "Accept": CSV}, timeout=30)
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.text.startswith("STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA")


def _ask(mesh: Mesh, client: str, resource: str, purpose: str, **extra: object) -> dict[str, object]:
    fields = ["freq", "ref_area", "indicator", "price_basis", "time_period", "obs_value"]
    asked = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests",
        json={"resource": resource, "fields": fields, "purpose": purpose, **extra},
        headers=mesh.bearer(client),
        timeout=30,
    )
    assert asked.status_code == 201, asked.text
    body: dict[str, object] = asked.json()
    return body


def _read(mesh: Mesh, client: str, purpose: str, key: str, accept: str = JSON) -> httpx.Response:
    headers = {**mesh.bearer(client, purpose=quote(purpose)), "Accept": accept}
    path = f"{mesh.gateway}/api/macroeconomy/v1/data/GDP_Q/{key}"
    deadline = time.monotonic() + 30
    while True:  # the gateway learns the new grant from the exchange's events
        answer = httpx.get(path, headers=headers, timeout=30)
        if answer.status_code != 403 or time.monotonic() > deadline:
            return answer
        time.sleep(0.3)


def _series(message: dict[str, Any]) -> tuple[set[str], set[str], set[str]]:
    """The REF_AREA values, the periods and the component ids of a data message."""
    structure = message["data"]["structures"][0]
    dimensions = {d["id"]: d for level in structure["dimensions"].values() for d in level}
    areas = {value["id"] for value in dimensions["REF_AREA"]["values"]}
    periods = {value.get("value", value.get("id")) for value in dimensions["TIME_PERIOD"]["values"]}
    components = {c["id"] for group in ("dimensions", "measures", "attributes") for c in _flat(structure.get(group))}
    return areas, periods, components


def _flat(group: Any) -> list[dict[str, Any]]:
    return [c for level in (group or {}).values() for c in level]


def test_a_department_reads_released_sdmx_data_masked_to_its_grant(mesh: Mesh) -> None:
    purpose = f"经济形势分析-{uuid.uuid4().hex[:6]}"
    asked = _ask(mesh, "mca-app", "macroeconomy.gdp-q", purpose, row_scope={"ref_area": ["33"]})
    assert asked["status"] == "granted"

    answer = _read(mesh, "mca-app", purpose, "Q..GDP.CUR")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.sdmx.data+json")
    areas, periods, components = _series(answer.json())
    assert areas == {"330000"}, "only the provinces of its row scope"
    assert f"{END_YEAR}-Q4" not in periods, "the embargoed quarter is not released"
    assert {"OBS_STATUS", "EMBARGO_TIME", "UNIT_MEASURE"}.isdisjoint(components), "only the granted components"

    owner = _read(mesh, "stats-registrar", "registry-maintenance", "Q..GDP.CUR")
    owner_areas, owner_periods, _ = _series(owner.json())
    assert len(owner_areas) > 1
    assert f"{END_YEAR}-Q4" in owner_periods, "the owner sees its embargoed quarter"

    as_csv = _read(mesh, "mca-app", purpose, "Q..GDP.CUR", accept=CSV)
    assert as_csv.status_code == 200, as_csv.text
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert rows
    assert {row["REF_AREA"] for row in rows} == {"330000"}
    assert "OBS_STATUS" not in rows[0]
    assert "EMBARGO_TIME" not in rows[0]

    outside = _read(mesh, "mca-app", purpose, "Q.110000.GDP.CUR")
    assert outside.status_code == 404, "a series outside the row scope looks absent"

    who = httpx.get(
        f"{mesh.gateway}/api/audit/v1/records/macroeconomy.gdp-q/Q.330000.GDP.CUR",
        headers=mesh.bearer("stats-steward"),
        timeout=30,
    )
    assert who.status_code == 200, who.text
    assert any(item["purpose"] == purpose for item in who.json()["items"])


def test_only_a_grant_on_the_prerelease_resource_sees_embargoed_observations(mesh: Mesh) -> None:
    purpose = f"发布准备-{uuid.uuid4().hex[:6]}"
    asked = _ask(mesh, "mca-app", "macroeconomy.gdp-q-prerelease", purpose)
    assert asked["status"] == "pending_provider"
    decided = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests/{asked['id']}/decision",
        json={"approve": True},
        headers=mesh.bearer("stats-steward"),
        timeout=30,
    )
    assert decided.status_code == 200, decided.text
    confirmed = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests/{asked['id']}/confirm",
        headers=mesh.bearer("bdb-coordinator"),
        timeout=30,
    )
    assert confirmed.status_code == 200, confirmed.text

    answer = _read(mesh, "mca-app", purpose, "Q.330000.GDP.CUR")
    assert answer.status_code == 200, answer.text
    _, periods, _ = _series(answer.json())
    assert f"{END_YEAR}-Q4" in periods, "pre-release access shows the embargoed quarter"
