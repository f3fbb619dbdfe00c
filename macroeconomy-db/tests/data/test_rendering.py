"""What every layout and format says about each observation, read back independently of the renderers: value,
status and embargo time per (series, period), the same in SDMX-JSON (time series, cross-section, flat) and
SDMX-CSV, with released and embargoed observations mixed in one answer and with every vintage's values."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

CSV = "application/vnd.sdmx.data+csv;version=2.0.0"
LOADS = "/v1/dataflows/GDP_Q/loads"
DIMENSIONS = ("FREQ", "REF_AREA", "INDICATOR", "PRICE_BASIS")
DATA_SCHEMA = json.loads((Path(__file__).with_name("schemas") / "sdmx-json-data-schema-2.0.0.json").read_text())


def valid_data_message(message: dict) -> dict:
    jsonschema.Draft7Validator(DATA_SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(message)
    return message


def decoded(message: dict, dataset: int = 0) -> dict[tuple[str, str], tuple[float | None, str | None, str | None]]:
    """(series key, period) → (value, OBS_STATUS, EMBARGO_TIME), whatever the layout."""
    structure = message["data"]["structures"][0]
    series_dims = structure["dimensions"]["series"]
    obs_dims = structure["dimensions"]["observation"]
    obs_attributes = structure["attributes"]["observation"]
    found = {}
    data = message["data"]["dataSets"][dataset]
    groups = data["series"].items() if "series" in data else [("", {"observations": data["observations"]})]
    for series_key, series in groups:
        parts = series_key.split(":") if series_key else []
        values = {d["id"]: d["values"][int(i)] for d, i in zip(series_dims, parts, strict=True)}
        for obs_key, array in series["observations"].items():
            every = {
                **values,
                **{d["id"]: d["values"][int(i)] for d, i in zip(obs_dims, obs_key.split(":"), strict=True)},
            }
            attributes: dict[str, str | None] = {}
            for position, attribute in enumerate(obs_attributes, start=1):
                index = array[position] if position < len(array) else None
                value = None if index is None else attribute["values"][index]
                attributes[attribute["id"]] = None if value is None else value.get("id", value.get("value"))
            key = ".".join(every[d]["id"] for d in DIMENSIONS)
            found[(key, every["TIME_PERIOD"]["value"])] = (
                array[0],
                attributes.get("OBS_STATUS"),
                attributes.get("EMBARGO_TIME"),
            )
    return found


def decoded_csv(text: str) -> dict[tuple[str, str], tuple[float | None, str | None, str | None]]:
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return {
        (".".join(row[d] for d in DIMENSIONS), row["TIME_PERIOD"]): (
            float(row["OBS_VALUE"]) if row["OBS_VALUE"] else None,
            row["OBS_STATUS"] or None,
            row["EMBARGO_TIME"] or None,
        )
        for row in rows
    }


@pytest.fixture
async def mixed(client, registrar, gdp_csv) -> str:
    """Two series released, then a revision of one period and a new one under embargo; the embargo's time."""
    first = gdp_csv(
        ("Q", "330000", "GDP", "CUR", "2024-Q3", "100", ""),
        ("Q", "330000", "GDP", "CUR", "2024-Q4", "101", "P"),
        ("Q", "320000", "GDP", "CUR", "2024-Q4", "200.25", ""),
    )
    assert (await client.post(LOADS, content=first, headers={**registrar, "Content-Type": CSV})).status_code == 201
    release_at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    coming = gdp_csv(
        ("Q", "330000", "GDP", "CUR", "2024-Q4", "102", ""), ("Q", "330000", "GDP", "CUR", "2025-Q1", "", "M")
    )
    response = await client.post(
        f"{LOADS}?release_at={release_at.isoformat().replace('+00:00', 'Z')}",
        content=coming,
        headers={**registrar, "Content-Type": CSV},
    )
    assert response.status_code == 201, response.text
    return release_at.isoformat().replace("+00:00", "Z")


async def test_every_layout_and_format_says_the_same_of_each_observation(client, registrar, mixed) -> None:
    expected = {
        ("Q.320000.GDP.CUR", "2024-Q4"): (200.25, "A", None),
        ("Q.330000.GDP.CUR", "2024-Q3"): (100.0, "A", None),
        ("Q.330000.GDP.CUR", "2024-Q4"): (102.0, "R", mixed),
        ("Q.330000.GDP.CUR", "2025-Q1"): (None, "M", mixed),
    }
    for layout in ("TIME_PERIOD", "REF_AREA", "AllDimensions"):
        response = await client.get(f"/v1/data/GDP_Q/Q...CUR?dimensionAtObservation={layout}", headers=registrar)
        assert response.status_code == 200
        assert decoded(valid_data_message(response.json())) == expected, layout
    response = await client.get("/v1/data/GDP_Q/Q...CUR", headers={**registrar, "Accept": CSV})
    assert decoded_csv(response.text) == expected


async def test_history_answers_each_vintage_in_every_format(client, registrar, mixed) -> None:
    response = await client.get("/v1/data/GDP_Q/Q.330000.GDP.CUR?includeHistory=true", headers=registrar)
    message = valid_data_message(response.json())
    assert len(message["data"]["dataSets"]) == 2
    assert decoded(message, 0) == {
        ("Q.330000.GDP.CUR", "2024-Q3"): (100.0, "A", None),
        ("Q.330000.GDP.CUR", "2024-Q4"): (101.0, "P", None),
    }
    assert decoded(message, 1) == {
        ("Q.330000.GDP.CUR", "2024-Q4"): (102.0, "R", mixed),
        ("Q.330000.GDP.CUR", "2025-Q1"): (None, "M", mixed),
    }
    text = (
        await client.get("/v1/data/GDP_Q/Q.330000.GDP.CUR?includeHistory=true", headers={**registrar, "Accept": CSV})
    ).text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(row["TIME_PERIOD"], row["OBS_VALUE"], row["OBS_STATUS"]) for row in rows] == [
        ("2024-Q3", "100", "A"),
        ("2024-Q4", "101", "P"),
        ("2024-Q4", "102", "R"),
        ("2025-Q1", "", "M"),
    ]
    assert all(row["VALID_FROM"] for row in rows)
    assert [row["UNIT_MEASURE"] for row in rows] == ["CNY"] * 4


async def test_last_n_observations_per_series_in_period_order(client, registrar, mixed) -> None:
    response = await client.get("/v1/data/GDP_Q/Q...CUR?lastNObservations=1", headers=registrar)
    assert set(decoded(response.json())) == {("Q.320000.GDP.CUR", "2024-Q4"), ("Q.330000.GDP.CUR", "2025-Q1")}
