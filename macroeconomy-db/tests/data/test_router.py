"""Data queries: keys with wildcards and +, periods of every frequency, lastNObservations, dimensionAtObservation,
asOf / updatedAfter / includeHistory, SDMX-JSON 2.0 valid against the official schema, SDMX-CSV 2.0 read by pysdmx."""

from __future__ import annotations

import asyncio
import gc
import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from pysdmx.io.csv.sdmx20.reader import read as read_sdmx_csv

CSV = "application/vnd.sdmx.data+csv;version=2.0.0"
JSON = "application/vnd.sdmx.data+json;version=2.0.0"
SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "schemas"
DATA_SCHEMA = json.loads((SCHEMAS / "sdmx-json-data-schema-2.0.0.json").read_text())
STRUCTURE_SCHEMA = json.loads((SCHEMAS / "sdmx-json-structure-schema-2.0.0.json").read_text())
LOADS = "/v1/dataflows/GDP_Q/loads"


def valid_data_message(message: dict) -> dict:
    jsonschema.Draft7Validator(DATA_SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(message)
    return message


def flat(message: dict) -> dict[tuple[str, str], list]:
    """(series key, period) → observation array, decoded independently of the registry's renderer."""
    structure = message["data"]["structures"][0]
    series_dims = structure["dimensions"]["series"]
    obs_dims = structure["dimensions"]["observation"]
    found = {}
    for dataset in message["data"]["dataSets"]:
        for series_key, series in dataset.get("series", {}).items():
            values = {d["id"]: d["values"][int(i)] for d, i in zip(series_dims, series_key.split(":"), strict=True)}
            for obs_key, array in series["observations"].items():
                obs = {d["id"]: d["values"][int(i)] for d, i in zip(obs_dims, obs_key.split(":"), strict=True)}
                every = {**values, **obs}
                key = ".".join(every[d]["id"] for d in ("FREQ", "REF_AREA", "INDICATOR", "PRICE_BASIS"))
                found[(key, every["TIME_PERIOD"]["value"])] = array
    return found


@pytest.fixture
async def loaded(client, registrar, gdp_csv):
    rows = []
    for area in ("330000", "320000", "110000"):
        for indicator in ("GDP", "GDPI"):
            for year in range(2015, 2025):
                for quarter in range(1, 5):
                    rows.append(("Q", area, indicator, "CUR", f"{year}-Q{quarter}", str(year * 10 + quarter), ""))
    rows.append(("A", "330000", "GDP", "CUR", "2020", "64613.3", ""))
    rows.append(("S", "330000", "GDP", "CUR", "2020-S1", "30000", ""))
    response = await client.post(LOADS, content=gdp_csv(*rows), headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_json_answer_validates_against_the_sdmx_json_2_schema(client, registrar, loaded) -> None:
    response = await client.get("/v1/data/GDP_Q/Q.330000.GDP.CUR", headers=registrar)
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    message = valid_data_message(response.json())
    found = flat(message)
    assert len(found) == 40
    assert found[("Q.330000.GDP.CUR", "2015-Q1")][0] == 20151.0


async def test_keys_with_wildcards_and_or(client, registrar, loaded) -> None:
    message = (await client.get("/v1/data/GDP_Q/Q..GDP+GDPI.CUR", headers=registrar)).json()
    keys = {key for key, _ in flat(valid_data_message(message))}
    assert keys == {
        f"Q.{area}.{indicator}.CUR" for area in ("330000", "320000", "110000") for indicator in ("GDP", "GDPI")
    }
    message = (await client.get("/v1/data/GDP_Q/Q.330000+110000.GDP.", headers=registrar)).json()
    assert {key for key, _ in flat(message)} == {"Q.330000.GDP.CUR", "Q.110000.GDP.CUR"}


@pytest.mark.parametrize(
    ("start", "end", "periods"),
    [
        ("2024-Q3", None, ["2024-Q3", "2024-Q4"]),
        ("2024", "2024", ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]),
        ("2024-S2", None, ["2024-Q3", "2024-Q4"]),
        ("2024-11", None, ["2024-Q4"]),
        ("2024-W40", None, ["2024-Q3", "2024-Q4"]),  # week 40 of 2024 starts on 30 September, still in Q3
        ("2024-12-31", None, ["2024-Q4"]),
        (None, "2015-02", ["2015-Q1"]),
    ],
)
async def test_start_and_end_periods_in_every_frequency(client, registrar, loaded, start, end, periods) -> None:
    query = "&".join(f"{name}={value}" for name, value in (("startPeriod", start), ("endPeriod", end)) if value)
    message = (await client.get(f"/v1/data/GDP_Q/Q.330000.GDP.CUR?{query}", headers=registrar)).json()
    assert sorted(period for _, period in flat(message)) == periods


async def test_annual_and_semiannual_series_and_last_n_observations(client, registrar, loaded) -> None:
    message = (await client.get("/v1/data/GDP_Q/A+S.330000.GDP.CUR", headers=registrar)).json()
    assert set(flat(valid_data_message(message))) == {("A.330000.GDP.CUR", "2020"), ("S.330000.GDP.CUR", "2020-S1")}
    message = (await client.get("/v1/data/GDP_Q/Q.330000+320000.GDP.CUR?lastNObservations=2", headers=registrar)).json()
    assert sorted(flat(message)) == sorted(
        (f"Q.{area}.GDP.CUR", period) for area in ("330000", "320000") for period in ("2024-Q3", "2024-Q4")
    )


async def test_dimension_at_observation(client, registrar, loaded) -> None:
    message = (
        await client.get(
            "/v1/data/GDP_Q/Q..GDP.CUR?dimensionAtObservation=REF_AREA&startPeriod=2024-Q4", headers=registrar
        )
    ).json()
    valid_data_message(message)
    structure = message["data"]["structures"][0]
    assert [d["id"] for d in structure["dimensions"]["observation"]] == ["REF_AREA"]
    assert "TIME_PERIOD" in [d["id"] for d in structure["dimensions"]["series"]]
    assert len(flat(message)) == 3
    message = (
        await client.get("/v1/data/GDP_Q/Q.330000.GDP.CUR?dimensionAtObservation=AllDimensions", headers=registrar)
    ).json()
    valid_data_message(message)
    assert len(message["data"]["dataSets"][0]["observations"]) == 40
    bad = await client.get("/v1/data/GDP_Q/all?dimensionAtObservation=NOPE", headers=registrar)
    assert bad.status_code == 400


async def test_the_csv_answer_reads_in_pysdmx(client, registrar, loaded) -> None:
    response = await client.get("/v1/data/GDP_Q/Q.330000+320000.GDP.CUR", headers={**registrar, "Accept": CSV})
    assert response.status_code == 200
    assert response.headers["content-type"] == CSV
    datasets = read_sdmx_csv(response.text)
    assert len(datasets) == 1
    frame = datasets[0].data
    assert datasets[0].short_urn.endswith("CN_STATS:GDP_Q(1.0.0)")
    assert len(frame) == 80
    assert set(frame["REF_AREA"]) == {"330000", "320000"}
    first = frame[(frame["REF_AREA"] == "330000") & (frame["TIME_PERIOD"] == "2015-Q1")]
    assert float(first["OBS_VALUE"].iloc[0]) == 20151.0
    assert list(frame.columns)[:3] == ["FREQ", "REF_AREA", "INDICATOR"] or "FREQ" in frame.columns


async def test_unknown_flow_is_404_malformed_key_400_nothing_found_404(client, registrar, loaded) -> None:
    assert (await client.get("/v1/data/NOPE/all", headers=registrar)).status_code == 404
    for key in ("Q.330000.GDP", "Q.330000.GDP.CUR.X", "Q.33 0000.GDP.CUR"):
        response = await client.get(f"/v1/data/GDP_Q/{key}", headers=registrar)
        assert response.status_code == 400, key
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/data/GDP_Q/all?startPeriod=2024-Q5", headers=registrar)).status_code == 400
    assert (await client.get("/v1/data/GDP_Q/Q.650000.GDP.CUR", headers=registrar)).status_code == 404
    assert (
        await client.get("/v1/data/GDP_Q/all", headers={**registrar, "Accept": "application/xml"})
    ).status_code == 406


async def test_as_of_updated_after_and_include_history(client, registrar, gdp_csv) -> None:
    first = gdp_csv(("Q", "350000", "GDP", "CUR", "2024-Q1", "100", "P"))
    await client.post(LOADS, content=first, headers={**registrar, "Content-Type": CSV})
    await asyncio.sleep(0.05)
    between = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    await asyncio.sleep(0.05)
    second = gdp_csv(
        ("Q", "350000", "GDP", "CUR", "2024-Q1", "101", ""), ("Q", "350000", "GDP", "CUR", "2024-Q2", "102", "")
    )
    await client.post(LOADS, content=second, headers={**registrar, "Content-Type": CSV})
    key = "/v1/data/GDP_Q/Q.350000.GDP.CUR"
    # note: inside one rolled-back test transaction now() is the same for both loads; asOf/updatedAfter are then
    # told apart by the vintages' own times only when they differ, which the release tests (committing) cover
    now = flat((await client.get(key, headers=registrar)).json())
    assert now[("Q.350000.GDP.CUR", "2024-Q1")][0] == 101.0
    history = (await client.get(f"{key}?includeHistory=true", headers=registrar)).json()
    valid_data_message(history)
    assert len(history["data"]["dataSets"]) == 2
    assert (await client.get(f"{key}?asOf=2000-01-01T00:00:00Z", headers=registrar)).status_code == 404
    assert (await client.get(f"{key}?updatedAfter=2100-01-01T00:00:00Z", headers=registrar)).status_code == 404
    assert between


async def test_structure_message_validates_against_the_sdmx_json_2_structure_schema(client, registrar) -> None:
    response = await client.get("/v1/structure/dataflow/GDP_Q", headers=registrar)
    assert response.status_code == 200
    message = response.json()
    jsonschema.Draft7Validator(STRUCTURE_SCHEMA).validate(message)
    assert [flow["id"] for flow in message["data"]["dataflows"]] == ["GDP_Q"]
    areas = next(c for c in message["data"]["codelists"] if c["id"] == "CL_AREA")
    assert {"id": "330000", "name": "浙江省", "names": {"zh": "浙江省"}} in areas["codes"]
    assert (await client.get("/v1/structure/dataflow/NOPE", headers=registrar)).status_code == 404


async def test_other_departments_read_only_through_the_gateway(client, foreign_consumer, loaded) -> None:
    assert (await client.get("/v1/data/GDP_Q/all", headers=foreign_consumer)).status_code == 403
    assert (await client.get("/v1/releases", headers=foreign_consumer)).status_code == 403


async def test_a_query_leaves_the_collector_running_answered_or_refused(client, registrar, loaded) -> None:
    assert (await client.get("/v1/data/GDP_Q/Q..GDP.CUR", headers=registrar)).status_code == 200
    assert gc.isenabled()
    assert (await client.get("/v1/data/GDP_Q/Q.650000.GDP.CUR", headers=registrar)).status_code == 404
    assert gc.isenabled()


LOADED_KEYS = {
    *(f"Q.{area}.{indicator}.CUR" for area in ("330000", "320000", "110000") for indicator in ("GDP", "GDPI")),
    "A.330000.GDP.CUR",
    "S.330000.GDP.CUR",
}


@pytest.mark.parametrize(
    "key",
    [
        "Q.330000+320000..",  # ranges of two leading positions, the rest open
        "Q.330000+320000.GDPI.",  # ranges, then a position filtered
        "Q+A.330000..CUR",
        "Q.330000.GDP.CUR",  # every position given: the keys themselves
        "Q+A+S.330000+110000.GDP+GDPI.CUR",
        "Q.330000.GDP.CON",  # a range holding no series
        "Q.3300.GDP.CUR",  # a prefix of a code is not the code
        "..GDP.CUR",  # no leading position: a scan
        "Q...",
    ],
)
async def test_a_key_selects_exactly_its_series_read_by_range_or_scan(client, registrar, loaded, key) -> None:
    from onesource.macroeconomy.series.keys import parse_query

    query = parse_query(key, ["FREQ", "REF_AREA", "INDICATOR", "PRICE_BASIS"])
    expected = {found for found in LOADED_KEYS if query.matches(found.split("."))}
    response = await client.get(f"/v1/data/GDP_Q/{key}", headers=registrar)
    if not expected:
        assert response.status_code == 404
        return
    keys = [series for series, _ in flat(valid_data_message(response.json()))]
    assert set(keys) == expected
    # series come in key order, byte by byte
    series_order = list(dict.fromkeys(keys))
    assert series_order == sorted(series_order)


async def test_numbers_are_answered_exactly_as_loaded(client, registrar, gdp_csv) -> None:
    given = ["0.30000000000000004", "1e-07", "-0.0", "1.7976931348623157e+308", "123456789.12345679", "5e-324", "42"]
    rows = [("Q", "360000", "GDP", "CUR", f"{2000 + n}-Q1", value, "") for n, value in enumerate(given)]
    response = await client.post(LOADS, content=gdp_csv(*rows), headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 201, response.text
    answer = await client.get("/v1/data/GDP_Q/Q.360000.GDP.CUR", headers=registrar)
    found = flat(valid_data_message(answer.json(parse_int=float)))  # JSON's -0 is a negative zero
    for n, value in enumerate(given):
        number = found[("Q.360000.GDP.CUR", f"{2000 + n}-Q1")][0]
        assert repr(number) == repr(float(value))  # the same double, -0.0 with its sign
    csv_answer = await client.get("/v1/data/GDP_Q/Q.360000.GDP.CUR", headers={**registrar, "Accept": CSV})
    cells = {row[7]: row[8] for row in (line.split(",") for line in csv_answer.text.split("\r\n")[1:-1])}
    assert {period: repr(float(text)) for period, text in cells.items()} == {
        f"{2000 + n}-Q1": repr(float(value)) for n, value in enumerate(given)
    }
