"""SDMX-JSON 2.0.0 data messages (sdmx-twg/sdmx-json, data-message field guide and JSON schema, tag v2.0.0).

One structure (the dataflow's, with the values the answer uses), and one data set — or, with ``includeHistory``, one
per vintage with its ``validFrom``. Observations are grouped in series keyed by the dimensions not at the
observation level (``dimensionAtObservation``; ``AllDimensions`` answers flat ``observations``). An observation
is ``[OBS_VALUE, OBS_STATUS index, EMBARGO_TIME index, …]``: the measure, then the observation attributes' value
indexes; series attributes (units) sit on the series when time is the observation dimension, else on each
observation.
"""

from __future__ import annotations

import json
import operator
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Generic, TypeVar

from onesource.macroeconomy.data.repository import SeriesAnswer
from onesource.macroeconomy.data.service import DataAnswer
from onesource.macroeconomy.dataflows.codes import code_name
from onesource.macroeconomy.dataflows.definitions import AGENCY_ID, AGENCY_NAME, Attachment, Component
from onesource.macroeconomy.series.periods import parse_any

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


class _Values:
    """The values a component takes in the answer, in first-use order, with their indexes."""

    def __init__(self, component: Component) -> None:
        self.component = component
        self.index: dict[str, int] = {}
        self.entries: list[dict[str, Any]] = []

    def of(self, value: str | None) -> int | None:
        if value is None:
            return None
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.entries)
            self.entries.append(_entry(self.component, value))
        return found


class _IndexesAsText(dict[str, str]):
    """A component's values' indexes as text (for series keys), each value given its index when first asked."""

    def __init__(self, component_values: _Values) -> None:
        super().__init__()
        self.component_values = component_values

    def __missing__(self, value: str) -> str:
        text = self[value] = str(self.component_values.of(value))
        return text


def _entry(component: Component, value: str) -> dict[str, Any]:
    if component.codelist is not None:
        return _code(component.codelist, value)
    if component.id == "TIME_PERIOD":
        # the forms of the frequencies' periods are disjoint: the text alone says which period it is
        period = parse_any(value)
        return {
            "value": value,
            "start": f"{period.start.isoformat()}T00:00:00Z",
            "end": f"{period.end.isoformat()}T23:59:59Z",
        }
    return {"value": value}


def _trimmed(found: list[int | None]) -> list[int | None]:
    """Attribute value indexes without the trailing ones that have no value (SDMX-JSON lets them be left out)."""
    while found and found[-1] is None:
        found.pop()
    return found


class _Columns:
    """A component's value at each observation of a series (``None``: no value), read from the answer's lists."""

    def __init__(self, answer: DataAnswer) -> None:
        dimensions = [dimension.id for dimension in answer.flow.structure.dimensions]
        self.positions = {dimension: position for position, dimension in enumerate(dimensions)}
        self.embargo = {vintage: timestamp(moment) for vintage, moment in answer.embargoed.items()}

    def of(self, component: Component, series: SeriesAnswer) -> Sequence[str | None] | None:
        """One value per observation of ``series``; ``None`` when it has none at any."""
        if component.id == "TIME_PERIOD":
            return series.periods
        if component.id == "OBS_STATUS":
            return series.statuses
        if component.id == "EMBARGO_TIME":
            embargo = self.embargo
            return list(map(embargo.get, series.vintages)) if embargo else None
        value = self.first(component, series)
        return None if value is None else [value] * len(series.periods)

    def cells(self, component: Component, series: SeriesAnswer) -> Sequence[str | None]:
        """One value per observation of ``series`` (``None`` where it has none)."""
        found = self.of(component, series)
        return [None] * len(series.periods) if found is None else found

    def first(self, component: Component, series: SeriesAnswer) -> str | None:
        """The value at the series' first observation (for what is the same at each: dimensions, series attributes)."""
        position = self.positions.get(component.id)
        if position is not None:
            return series.series.dimensions[position]
        if component.attachment is Attachment.SERIES:
            value = series.series.attributes.get(component.id)
            return None if value is None else str(value)
        found = self.of(component, series)
        return None if found is None else found[0]


def _indexes(values: _Values, cells: Sequence[str | None] | None) -> list[int | None] | None:
    """The value index of each cell (``None`` for none at all)."""
    if cells is None:
        return None
    for value in set(cells):
        values.of(value)
    return list(map(values.index.get, cells))  # type: ignore[arg-type]  # None cells: no index


#: Stands in the message for a data set's series until their JSON text is put in its place (``data_json``).
_PLACE: Final = "\ue000"
T = TypeVar("T")
_PLACE_JSON: Final = f'"{_PLACE}"'
_json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _time_series(
    series_list: Sequence[SeriesAnswer],
    columns: _Columns,
    values: dict[str, _Values],
    series_dims: Sequence[Component],
    series_attributes: Sequence[Component],
    observation_attributes: Sequence[Component],
) -> str:
    """The data set's ``series`` as JSON text: keyed by their dimension values' indexes, observations by the period's.

    The default (``TIME_PERIOD``) layout, and the one large answers take: the work is per series, and per
    observation only what runs inside the interpreter's built-ins. Each series is written as JSON text at once, not
    as a list per observation (and a dict per series) for the encoder to walk.
    """
    time = values["TIME_PERIOD"]
    keys_of: _Shared[list[str]] = _Shared()
    indexes_of: dict[str, _Shared[tuple[list[int | None] | None, list[str] | None]]] = {
        component.id: _Shared() for component in observation_attributes
    }
    attributes_of: _Shared[str] = _Shared()
    # the structure's dimensions, in key order: a series' key is looked up without a Python call per value
    dimension_texts = [_IndexesAsText(values[c.id]) for c in series_dims]
    entries: list[str] = []
    for series in series_list:
        key = ":".join(map(operator.getitem, dimension_texts, series.series.dimensions))
        given = series.series.attributes
        attributes = attributes_of.get(given)
        if attributes is None:
            indexes = [values[c.id].of(columns.first(c, series)) for c in series_attributes]
            attributes = attributes_of.put(given, _json_text(_trimmed(indexes)))
        # a series is once in a data set: its key too
        opening = f'"{key}":{{"attributes":{attributes},"observations":'
        periods = series.periods
        opening_keys = keys_of.get(periods)
        if opening_keys is None:
            keys = [f'"{time.of(period)}":[' for period in periods]
            # each observation's text begins with its key, and (but the first) ends the one before
            opening_keys = keys_of.put(periods, keys[:1] + ["]," + text for text in keys[1:]])
        # per observation attribute: its value indexes and those as text (``None``: no value at all)
        attribute_columns = []
        for component in observation_attributes:
            cells = columns.of(component, series)
            column = indexes_of[component.id].get(cells)
            if column is None:
                column = indexes_of[component.id].put(cells, _indexes_and_texts(values[component.id], cells))
            attribute_columns.append(column)
        while attribute_columns and attribute_columns[-1][0] is None:
            attribute_columns.pop()
        count = len(periods)
        values_given = series.values
        if len(values_given) != count:
            raise ValueError("a series' values and periods differ in number")
        last = attribute_columns[-1][0] if attribute_columns else None
        if last is not None and None in last:
            # some observations lack the last attribute: their arrays end before it (rare: a mixed embargo)
            given_indexes = [[None] * count if column is None else column for column, _ in attribute_columns]
            texts = [
                key_text + value + "".join(map(_INDEX_TEXTS.__getitem__, _trimmed(list(rest))))
                for key_text, value, *rest in zip(opening_keys, values_given, *given_indexes, strict=True)
            ]
            entries.append(opening + "{" + "".join(texts) + "]}}")
            continue
        # the pieces of every observation's text laid side by side (key, value, each index), joined at once
        width = 2 + len(attribute_columns)
        pieces = [""] * (width * count)
        pieces[0::width] = opening_keys
        pieces[1::width] = values_given
        for position, (_, column_texts) in enumerate(attribute_columns, start=2):
            pieces[position::width] = [",null"] * count if column_texts is None else column_texts
        entries.append(opening + ("{" + "".join(pieces) + "]}}" if count else "{}}"))
    return "{" + ",".join(entries) + "}"


class _Shared(Generic[T]):
    """What was made of objects the repository shares between series (periods, statuses, attributes), made once.

    Kept by the object's identity, with the object itself: an identity is never taken for another object's.
    """

    def __init__(self) -> None:
        self._made: dict[int, tuple[object, T]] = {}

    def get(self, source: object) -> T | None:
        known = self._made.get(id(source))
        return known[1] if known is not None and known[0] is source else None

    def put(self, source: object, made: T) -> T:
        self._made[id(source)] = source, made
        return made


def _indexes_and_texts(
    values: _Values, cells: Sequence[str | None] | None
) -> tuple[list[int | None] | None, list[str] | None]:
    """The value index of each cell, and each as text after its comma (``None``, ``None``: no cell has a value)."""
    found = _indexes(values, cells)
    return found, None if found is None else list(map(_INDEX_TEXTS.__getitem__, found))


class _IndexTexts(dict[int | None, str]):
    """A value index as JSON text after the comma before it (``,null`` for none), written once per index."""

    def __missing__(self, index: int | None) -> str:
        text = self[index] = ",null" if index is None else f",{index}"
        return text


_INDEX_TEXTS: Final = _IndexTexts()


def _observations(
    series_list: Sequence[SeriesAnswer],
    columns: _Columns,
    values: dict[str, _Values],
    series_dims: Sequence[Component],
    observation_dims: Sequence[Component],
    observation_attributes: Sequence[Component],
) -> Iterator[tuple[str, str, list[Any]]]:
    """Each observation's series key, observation key and array (value, attribute indexes), in other layouts.

    A cross-section (a dimension at the observation) or flat (``AllDimensions``, no series key).
    """

    def key(components: Sequence[Component], cells: Sequence[str | None]) -> str:
        return ":".join(str(values[c.id].of(cell)) for c, cell in zip(components, cells, strict=True))

    for series in series_list:
        series_cells = zip(*(columns.cells(c, series) for c in series_dims), strict=True) if series_dims else None
        observation_cells = zip(*(columns.cells(c, series) for c in observation_dims), strict=True)
        attribute_cells = zip(*(columns.cells(c, series) for c in observation_attributes), strict=True)
        for value, at_observation, given in zip(series.values, observation_cells, attribute_cells, strict=True):
            indexes = _trimmed([values[c.id].of(cell) for c, cell in zip(observation_attributes, given, strict=True)])
            series_key = key(series_dims, next(series_cells)) if series_cells is not None else ""
            yield (
                series_key,
                key(observation_dims, at_observation),
                [None if value == "null" else float(value), *indexes],
            )


def data_json(answer: DataAnswer) -> str:
    """The SDMX-JSON 2.0 data message of a query's answer, as JSON text."""
    rendered: list[str] = []
    text = _json_text(_data_message(answer, rendered))
    if not rendered:
        return text
    parts = text.split(_PLACE_JSON)
    if len(parts) != len(rendered) + 1:  # no value the message holds is the mark: codes and periods are checked
        raise ValueError("a value of the message is the placeholder of a series' observations")
    return "".join(part for pair in zip(parts, [*rendered, ""], strict=True) for part in pair)


def _data_message(answer: DataAnswer, rendered: list[str]) -> dict[str, Any]:
    """The SDMX-JSON 2.0 data message of a query's answer (time series' observations as marks: ``data_json``)."""
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
    columns = _Columns(answer)

    datasets = []
    for vintage, series_list in answer.datasets:
        dataset: dict[str, Any] = {
            "structure": 0,
            "action": "Information",
            "links": [{"urn": answer.flow.urn, "rel": "dataflow"}],
        }
        if vintage is not None:
            dataset["validFrom"] = timestamp(max(vintage.release_at, vintage.loaded_at))
        if by_time:
            rendered.append(
                _time_series(series_list, columns, values, series_dims, series_attributes, observation_attributes)
            )
            dataset["series"] = _PLACE
        elif series_dims:
            # a cross-section: its series are periods (with the other dimensions), each spanning stored series
            series: dict[str, dict[str, Any]] = {}
            for series_key, observation_key, array in _observations(
                series_list, columns, values, series_dims, observation_dims, observation_attributes
            ):
                entry = series.setdefault(series_key, {"attributes": [], "observations": {}})
                entry["observations"][observation_key] = array
            dataset["series"] = series
        else:
            dataset["observations"] = {
                key: array
                for _, key, array in _observations(
                    series_list, columns, values, [], observation_dims, observation_attributes
                )
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
