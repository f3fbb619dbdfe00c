"""SDMX-JSON 2.0.0 data messages (sdmx-twg/sdmx-json, data-message field guide and JSON schema, tag v2.0.0).

One structure (the dataflow's, with the values the answer uses), and one data set — or, with ``includeHistory``, one
per vintage with its ``validFrom``. Observations are grouped in series keyed by the dimensions not at the
observation level (``dimensionAtObservation``; ``AllDimensions`` answers flat ``observations``). An observation
is ``[OBS_VALUE, OBS_STATUS index, EMBARGO_TIME index, …]``: the measure, then the observation attributes' value
indexes; series attributes (units) sit on the series when time is the observation dimension, else on each
observation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from onesource.macroeconomy.data.service import DataAnswer, ObservationRow
from onesource.macroeconomy.dataflows.codes import code_name
from onesource.macroeconomy.dataflows.definitions import AGENCY_ID, AGENCY_NAME, Attachment, Component
from onesource.macroeconomy.series.periods import parse

SCHEMA: Final = (
    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/data-message/tools/schemas/2.0.0/"
    "sdmx-json-data-schema.json"
)
LANGUAGE: Final = "zh"


def timestamp(moment: datetime) -> str:
    """ISO 8601 with time zone, in UTC."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def meta(prepared: datetime) -> dict[str, Any]:
    """The message's ``meta``."""
    return {
        "schema": SCHEMA,
        "id": f"IREF{uuid.uuid4().hex}",
        "test": False,
        "prepared": timestamp(prepared),
        "contentLanguages": [LANGUAGE],
        "sender": {"id": AGENCY_ID, "name": AGENCY_NAME, "names": {LANGUAGE: AGENCY_NAME}},
    }


def _named(component: Component) -> dict[str, Any]:
    return {"id": component.id, "name": component.name, "names": {LANGUAGE: component.name}}


def _code(codelist: str, value: str) -> dict[str, Any]:
    name = code_name(codelist, value)
    return {"id": value, "name": name, "names": {LANGUAGE: name}}


def _value_of(component: Component, row: ObservationRow) -> str | None:
    """The row's value of a dimension or attribute (``None``: no value)."""
    if component.id == "TIME_PERIOD":
        return row.time_period
    if component.id == "OBS_STATUS":
        return row.status
    if component.id == "EMBARGO_TIME":
        return timestamp(row.embargo_time) if row.embargo_time is not None else None
    value = row.series.attributes.get(component.id)
    return None if value is None else str(value)


def _entry(component: Component, value: str, frequency: str | None) -> dict[str, Any]:
    if component.codelist is not None:
        return _code(component.codelist, value)
    if component.id == "TIME_PERIOD" and frequency is not None:
        period = parse(value, frequency)
        return {
            "value": value,
            "start": f"{period.start.isoformat()}T00:00:00Z",
            "end": f"{period.end.isoformat()}T23:59:59Z",
        }
    return {"value": value}


class _Values:
    """The values a component takes in the answer, in first-use order, with their indexes."""

    def __init__(self, component: Component) -> None:
        self.component = component
        self.index: dict[str, int] = {}
        self.entries: list[dict[str, Any]] = []

    def of(self, value: str | None, frequency: str | None) -> int | None:
        if value is None:
            return None
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.entries)
            self.entries.append(_entry(self.component, value, frequency))
        return found


def data_message(answer: DataAnswer) -> dict[str, Any]:
    """The SDMX-JSON 2.0 data message of a query's answer."""
    structure = answer.flow.structure
    dimension_ids = [dimension.id for dimension in structure.dimensions]
    every_dimension = [*structure.dimensions, structure.time_dimension]
    at_observation = answer.dimension_at_observation
    if at_observation == "AllDimensions":
        observation_dims = every_dimension
    else:
        observation_dims = [d for d in every_dimension if d.id == at_observation]
    series_dims = [d for d in every_dimension if d not in observation_dims]
    by_time = at_observation == "TIME_PERIOD"
    series_attributes = list(structure.series_attributes()) if by_time else []
    observation_attributes = [
        *structure.observation_attributes(),
        *([] if by_time else structure.series_attributes()),
    ]
    values = {component.id: _Values(component) for component in (*every_dimension, *structure.attributes)}

    def frequency_of(row: ObservationRow) -> str:
        return row.series.dimensions[dimension_ids.index("FREQ")]

    def value(component: Component, row: ObservationRow) -> str | None:
        if component.id in dimension_ids:
            return row.series.dimensions[dimension_ids.index(component.id)]
        return _value_of(component, row)

    def indexes(components: Sequence[Component], row: ObservationRow) -> list[int | None]:
        found = [values[c.id].of(value(c, row), frequency_of(row)) for c in components]
        while found and found[-1] is None:
            found.pop()
        return found

    def key(components: Sequence[Component], row: ObservationRow) -> str:
        return ":".join(str(values[c.id].of(value(c, row), frequency_of(row))) for c in components)

    datasets = []
    for vintage, rows in answer.datasets:
        dataset: dict[str, Any] = {
            "structure": 0,
            "action": "Information",
            "links": [{"urn": answer.flow.urn, "rel": "dataflow"}],
        }
        if vintage is not None:
            dataset["validFrom"] = timestamp(max(vintage.release_at, vintage.loaded_at))
        if series_dims:
            series: dict[str, dict[str, Any]] = {}
            for row in rows:
                entry = series.setdefault(
                    key(series_dims, row), {"attributes": indexes(series_attributes, row), "observations": {}}
                )
                entry["observations"][key(observation_dims, row)] = [row.value, *indexes(observation_attributes, row)]
            dataset["series"] = series
        else:
            dataset["observations"] = {
                key(observation_dims, row): [row.value, *indexes(observation_attributes, row)] for row in rows
            }
        datasets.append(dataset)

    def dimension(component: Component) -> dict[str, Any]:
        position = len(dimension_ids) if component.id == "TIME_PERIOD" else dimension_ids.index(component.id)
        entries = values[component.id].entries
        return {**_named(component), "keyPosition": position, "roles": [component.id], "values": entries}

    def attribute(component: Component, level: str) -> dict[str, Any]:
        relationship: dict[str, Any] = {"dimensions": dimension_ids} if level == "series" else {"observation": {}}
        return {
            **_named(component),
            "roles": [component.id],
            "isMandatory": component.mandatory and component.attachment is Attachment.SERIES,
            "relationship": relationship,
            "values": values[component.id].entries,
        }

    structure_entry = {
        "links": [
            {"urn": answer.flow.urn, "rel": "dataflow"},
            {
                "urn": f"urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure={AGENCY_ID}:{structure.id}(1.0.0)",
                "rel": "datastructure",
            },
        ],
        "name": answer.flow.name,
        "names": {LANGUAGE: answer.flow.name},
        "dimensions": {
            "dataSet": [],
            "series": [dimension(d) for d in series_dims],
            "observation": [dimension(d) for d in observation_dims],
        },
        "measures": {"observation": [_named(m) for m in structure.measures]},
        "attributes": {
            "dataSet": [],
            "series": [attribute(a, "series") for a in series_attributes],
            "observation": [attribute(a, "observation") for a in observation_attributes],
        },
        "dataSets": list(range(len(datasets))),
    }
    _fill_empty(structure_entry)
    return {"meta": meta(answer.prepared), "data": {"structures": [structure_entry], "dataSets": datasets}}


def _fill_empty(structure_entry: dict[str, Any]) -> None:
    """An attribute without any value in the answer lists one null value (SDMX-JSON requires at least one)."""
    for level, items in structure_entry["attributes"].items():
        structure_entry["attributes"][level] = [
            item if item["values"] else {**item, "values": [None]} for item in items
        ]
