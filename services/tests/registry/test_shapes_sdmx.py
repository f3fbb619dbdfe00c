"""The sdmx answer shape: masking SDMX-JSON 2.0 and SDMX-CSV 2.0 to a grant, against an independent oracle."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onesource.registry.shapes.sdmx import (
    UngrantedDimension,
    UnmaskableSdmx,
    mask_sdmx_csv,
    mask_sdmx_json,
    observations,
)

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[3] / "macroeconomy-db/tests/data/schemas/sdmx-json-data-schema-2.0.0.json"
    ).read_text()
)
DIMENSIONS = ("FREQ", "REF_AREA", "INDICATOR")
EVERY = {"freq", "ref_area", "indicator", "time_period", "obs_value", "obs_status", "unit_measure", "embargo_time"}

# One observation of the test data: (FREQ, REF_AREA, INDICATOR, TIME_PERIOD, value, status, unit, embargo).
Row = tuple[str, str, str, str, float | None, str | None, str, str | None]


def message_of(rows: list[Row]) -> dict[str, Any]:
    """An SDMX-JSON 2.0 data message of ``rows``, time series layout (written here, not by any registry)."""
    values: dict[str, list[Any]] = {
        name: [] for name in (*DIMENSIONS, "TIME_PERIOD", "OBS_STATUS", "UNIT_MEASURE", "EMBARGO_TIME")
    }

    def index(name: str, value: Any) -> int | None:
        if value is None:
            return None
        if value not in values[name]:
            values[name].append(value)
        return values[name].index(value)

    series: dict[str, Any] = {}
    for freq, area, indicator, period, value, status, unit, embargo in rows:
        key = ":".join(str(index(name, v)) for name, v in zip(DIMENSIONS, (freq, area, indicator), strict=True))
        entry = series.setdefault(key, {"attributes": [index("UNIT_MEASURE", unit)], "observations": {}})
        entry["observations"][str(index("TIME_PERIOD", period))] = [
            value,
            index("OBS_STATUS", status),
            index("EMBARGO_TIME", embargo),
        ]

    def dimension(name: str, position: int) -> dict[str, Any]:
        entries = [{"value": v} if name == "TIME_PERIOD" else {"id": v, "name": v} for v in values[name]]
        return {"id": name, "name": name, "keyPosition": position, "values": entries or [{"id": "X", "name": "X"}]}

    def attribute(name: str, relationship: dict[str, Any]) -> dict[str, Any]:
        entries = [{"value": v} if name == "EMBARGO_TIME" else {"id": v, "name": v} for v in values[name]]
        return {"id": name, "name": name, "relationship": relationship, "values": entries or [None]}

    return {
        "meta": {"id": "TEST", "prepared": "2025-01-01T00:00:00Z", "sender": {"id": "CN_STATS"}},
        "data": {
            "structures": [
                {
                    "dimensions": {
                        "series": [dimension(name, n) for n, name in enumerate(DIMENSIONS)],
                        "observation": [dimension("TIME_PERIOD", 3)],
                    },
                    "measures": {"observation": [{"id": "OBS_VALUE", "name": "OBS_VALUE"}]},
                    "attributes": {
                        "series": [attribute("UNIT_MEASURE", {"dimensions": list(DIMENSIONS)})],
                        "observation": [
                            attribute("OBS_STATUS", {"observation": {}}),
                            attribute("EMBARGO_TIME", {"observation": {}}),
                        ],
                    },
                    "dataSets": [0],
                }
            ],
            "dataSets": [
                {"structure": 0, "action": "Information", "links": [{"rel": "dataflow", "urn": "x"}], "series": series}
            ],
        },
    }


def csv_of(rows: list[Row]) -> str:
    lines = [
        "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MEASURE,EMBARGO_TIME"
    ]
    for freq, area, indicator, period, value, status, unit, embargo in rows:
        number = "" if value is None else repr(value)
        lines.append(
            f"dataflow,A:F(1.0.0),I,{freq},{area},{indicator},{period},{number},{status or ''},{unit},{embargo or ''}"
        )
    return "\r\n".join(lines) + "\r\n"


def oracle(rows: list[Row], granted: set[str], scope: dict[str, list[str]] | None, prerelease: bool) -> set[tuple]:
    """What a grant sees, by plain filtering of the rows: (key, period, value?, status?, unit?, embargo?)."""
    seen = set()
    for freq, area, indicator, period, value, status, unit, embargo in rows:
        dims = {"FREQ": freq, "REF_AREA": area, "INDICATOR": indicator}
        if scope and not all(dims.get(name.upper(), "\0").startswith(tuple(p)) for name, p in scope.items()):
            continue
        if embargo and not prerelease:
            continue
        seen.add(
            (
                f"{freq}.{area}.{indicator}",
                period,
                value if "obs_value" in granted else "-",
                status if "obs_status" in granted else "-",
                unit if "unit_measure" in granted else "-",
                embargo if "embargo_time" in granted else "-",
            )
        )
    return seen


def decoded(message: dict[str, Any]) -> set[tuple]:
    """The masked message read back (with the shape module's reader, checked against the schema first)."""
    jsonschema.Draft7Validator(SCHEMA).validate(message)
    found = set()
    for observation in observations(message):
        dims = observation.dimensions
        found.add(
            (
                ".".join(dims[name] for name in DIMENSIONS),
                dims["TIME_PERIOD"],
                observation.measures.get("OBS_VALUE") if "OBS_VALUE" in _ids(message) else "-",
                observation.attributes.get("OBS_STATUS") if "OBS_STATUS" in _ids(message) else "-",
                observation.attributes.get("UNIT_MEASURE") if "UNIT_MEASURE" in _ids(message) else "-",
                observation.attributes.get("EMBARGO_TIME") if "EMBARGO_TIME" in _ids(message) else "-",
            )
        )
    return found


def _ids(message: dict[str, Any]) -> set[str]:
    structure = message["data"]["structures"][0]
    return {
        c["id"]
        for group in ("dimensions", "measures", "attributes")
        for items in structure.get(group, {}).values()
        for c in items
    }


def csv_decoded(text: str) -> set[tuple]:
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    found = set()
    for row in rows:
        value = row.get("OBS_VALUE", "-")
        found.add(
            (
                ".".join(row[name] for name in DIMENSIONS),
                row["TIME_PERIOD"],
                "-" if value == "-" else (None if value == "" else float(value)),
                row.get("OBS_STATUS", "-") or None,
                row.get("UNIT_MEASURE", "-"),
                row.get("EMBARGO_TIME", "-") or None,
            )
        )
    return found


ROWS: list[Row] = [
    ("Q", "330100", "GDP", "2024-Q1", 100.5, "A", "CNY", None),
    ("Q", "330100", "GDP", "2024-Q2", 101.5, "P", "CNY", "2030-01-01T00:00:00Z"),
    ("Q", "330200", "GDP", "2024-Q1", 50.0, None, "CNY", None),
    ("Q", "320100", "GDP", "2024-Q1", 70.0, "R", "CNY", None),
]


def test_row_scope_keeps_only_series_of_the_prefixes_and_prunes_values() -> None:
    masked = mask_sdmx_json(message_of(ROWS), EVERY, {"ref_area": ["3301"]}, prerelease=False)
    assert masked.series_keys == ("Q.330100.GDP",)
    assert masked.observations == 1
    structure = masked.message["data"]["structures"][0]
    areas = next(d for d in structure["dimensions"]["series"] if d["id"] == "REF_AREA")["values"]
    assert [area["id"] for area in areas] == ["330100"]  # 330200 and 320100 do not show through the structure
    embargo = next(a for a in structure["attributes"]["observation"] if a["id"] == "EMBARGO_TIME")
    assert embargo["values"] == [None]  # the embargoed observation's release time does not show either
    assert decoded(masked.message) == oracle(ROWS, EVERY, {"ref_area": ["3301"]}, False)


def test_pre_release_access_keeps_embargoed_observations() -> None:
    masked = mask_sdmx_json(message_of(ROWS), EVERY, None, prerelease=True)
    assert masked.observations == 4
    assert decoded(masked.message) == oracle(ROWS, EVERY, None, True)


def test_fields_are_components_and_dimensions_must_be_granted() -> None:
    granted = {"freq", "ref_area", "indicator", "time_period", "obs_value"}
    masked = mask_sdmx_json(message_of(ROWS), granted, None, prerelease=False)
    assert masked.components == ("FREQ", "INDICATOR", "OBS_VALUE", "REF_AREA", "TIME_PERIOD")
    assert decoded(masked.message) == oracle(ROWS, granted, None, False)
    with pytest.raises(UngrantedDimension):
        mask_sdmx_json(message_of(ROWS), granted - {"ref_area"}, None, prerelease=False)
    with pytest.raises(UngrantedDimension):
        mask_sdmx_csv(csv_of(ROWS), granted - {"time_period"}, None, False, dimensions=DIMENSIONS)


def test_anything_not_understood_is_refused() -> None:
    message = message_of(ROWS)
    without_embargo = json.loads(json.dumps(message))
    without_embargo["data"]["structures"][0]["attributes"]["observation"].pop()
    for series in without_embargo["data"]["dataSets"][0]["series"].values():
        for array in series["observations"].values():
            del array[2:]
    with pytest.raises(UnmaskableSdmx):
        mask_sdmx_json(without_embargo, EVERY, None, prerelease=False)
    assert mask_sdmx_json(without_embargo, EVERY, None, prerelease=True).observations == 4
    broken: list[Any] = [
        [],
        {"data": {}},
        {"data": {"structures": [{"dimensions": {"group": []}}]}},
    ]
    grouped = json.loads(json.dumps(message))
    grouped["data"]["structures"][0]["attributes"]["dimensionGroup"] = [{"id": "G", "relationship": {}}]
    broken.append(grouped)
    bad_index = json.loads(json.dumps(message))
    next(iter(bad_index["data"]["dataSets"][0]["series"].values()))["attributes"] = ["CNY"]
    broken.append(bad_index)
    past_values = json.loads(json.dumps(message))
    past_values["data"]["dataSets"][0]["series"]["9:0:0"] = {"observations": {}}
    broken.append(past_values)
    for document in broken:
        with pytest.raises(UnmaskableSdmx):
            mask_sdmx_json(document, EVERY, None, prerelease=True)
    for text in (
        "",
        "STRUCTURE[;],STRUCTURE_ID\r\n",
        "STRUCTURE,STRUCTURE_ID,FREQ: Frequency,REF_AREA,INDICATOR,TIME_PERIOD\r\n",
    ):
        with pytest.raises(UnmaskableSdmx):
            mask_sdmx_csv(text, EVERY, None, True, dimensions=(*DIMENSIONS, "TIME_PERIOD"))
    with pytest.raises(UnmaskableSdmx):
        mask_sdmx_csv(csv_of(ROWS).replace("EMBARGO_TIME", "X"), EVERY, None, False, dimensions=DIMENSIONS)


def test_csv_masks_like_json() -> None:
    masked = mask_sdmx_csv(csv_of(ROWS), EVERY - {"unit_measure"}, {"REF_AREA": ["33"]}, False, dimensions=DIMENSIONS)
    assert masked.series_keys == ("Q.330100.GDP", "Q.330200.GDP")
    assert "UNIT_MEASURE" not in masked.message.splitlines()[0]
    assert csv_decoded(masked.message) == oracle(ROWS, EVERY - {"unit_measure"}, {"REF_AREA": ["33"]}, False)


_areas = st.sampled_from(["110000", "110100", "330100", "330200", "320100", "440300"])
_rows = st.lists(
    st.tuples(
        st.sampled_from(["Q", "A"]),
        _areas,
        st.sampled_from(["GDP", "CPI"]),
        st.sampled_from(["2023-Q1", "2023-Q2", "2024-Q1"]),
        st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32)),
        st.sampled_from([None, "A", "P", "R"]),
        st.sampled_from(["CNY", "IDX"]),
        st.sampled_from([None, None, "2030-01-01T00:00:00Z"]),
    ),
    max_size=25,
    unique_by=lambda row: (row[0], row[1], row[2], row[3]),
).map(
    # a series has one unit: the first row's
    lambda rows: [(*row[:6], next(r[6] for r in rows if r[:3] == row[:3]), row[7]) for row in rows]
)
_granted = st.sets(st.sampled_from(sorted(EVERY - {"freq", "ref_area", "indicator", "time_period"}))).map(
    lambda extra: extra | {"freq", "ref_area", "indicator", "time_period"}
)
_scopes = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["ref_area", "REF_AREA", "indicator", "obs_status"]),
        st.lists(st.sampled_from(["11", "33", "3302", "4403", "GDP", "C", "A"]), min_size=1, max_size=3),
        max_size=2,
    ),
)


@settings(max_examples=300, deadline=None)
@given(rows=_rows, granted=_granted, scope=_scopes, prerelease=st.booleans())
def test_masking_agrees_with_the_oracle(rows: list[Row], granted: set[str], scope: Any, prerelease: bool) -> None:
    if scope:  # two spellings of one dimension would be one key of a dict: keep one
        scope = {name.lower(): prefixes for name, prefixes in scope.items()}
    expected = oracle(rows, granted, scope, prerelease)
    masked = mask_sdmx_json(message_of(rows), granted, scope, prerelease)
    assert decoded(masked.message) == expected
    assert set(masked.series_keys) == {row[0] for row in expected}
    assert masked.observations == len(expected)
    from_csv = mask_sdmx_csv(csv_of(rows), granted, scope, prerelease, dimensions=DIMENSIONS)
    assert {
        (k, p, v if v == "-" or v is None else float(v), *rest) for k, p, v, *rest in csv_decoded(from_csv.message)
    } == {(k, p, v if v == "-" or v is None else float(repr(v)), *rest) for k, p, v, *rest in expected}
    assert from_csv.series_keys == masked.series_keys
