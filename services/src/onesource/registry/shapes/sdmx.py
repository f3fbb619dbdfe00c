"""The ``sdmx`` answer shape: SDMX-JSON 2.0 and SDMX-CSV 2.0 data messages, read and masked (pure functions).

The gateway masks a registry's SDMX answer to a department's grant with :func:`mask_sdmx_json` or
:func:`mask_sdmx_csv` (DESIGN.md, "Answer shapes"); a registry reads SDMX-JSON loads with :func:`observations`.

What masking does, the same for both formats:

- **rows are observations, grouped in series**: an observation is kept when, for every dimension of the row scope
  (``{"REF_AREA": ["3301", "3302"]}``), its value of that dimension starts with one of the prefixes; a scope on a
  component that is not a dimension of the message keeps nothing; no scope keeps every observation;
- **embargo**: an observation whose ``EMBARGO_TIME`` attribute has a value is under embargo (registries set it
  only on observations of vintages not yet released) and is kept only when pre-release access is allowed; a
  message without an ``EMBARGO_TIME`` component is refused unless pre-release access is allowed (the registry
  always declares it; without it nothing says which observations are embargoed);
- **fields are components**: measures and attributes not granted are removed (from the structure and every
  observation); dimensions, the time dimension included, are the series and observation keys: a message with a
  dimension the grant does not cover is refused (:class:`UngrantedDimension`), never re-keyed;
- values lists of dimensions and attributes keep only the values the kept observations use, re-indexed, so that
  nothing out of scope shows through the structure;
- anything not understood (another version, a coded measure, group attributes, values that are not indexes,
  multi-valued or labelled CSV columns, …) is refused with :class:`UnmaskableSdmx`, never passed on.

Granted component ids are compared case-insensitively: catalog field names are lower-case (``ref_area``), SDMX
component ids upper-case (``REF_AREA``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

#: The attribute that marks an embargoed observation (SDMX cross-domain concept EMBARGO_TIME).
EMBARGO_ATTRIBUTE: Final = "EMBARGO_TIME"
#: The time dimension of SDMX data structures.
TIME_DIMENSION: Final = "TIME_PERIOD"
JSON_MEDIA_TYPE: Final = "application/vnd.sdmx.data+json;version=2.0.0"
CSV_MEDIA_TYPE: Final = "application/vnd.sdmx.data+csv;version=2.0.0"
#: SDMX-CSV 2.0 columns that identify the structure and the action (field guide, "Column headers").
CSV_HEAD_COLUMNS: Final = ("STRUCTURE", "STRUCTURE_ID", "ACTION")
#: Custom columns (SDMX-CSV 2.0 allows them) registries write and masking passes on: a vintage's start.
CSV_CUSTOM_COLUMNS: Final = frozenset({"VALID_FROM"})

Scope = Mapping[str, Sequence[str]]


class UnmaskableSdmx(ValueError):
    """The message is not one masking understands; nothing of it may be returned."""


class UngrantedDimension(UnmaskableSdmx):
    """The grant does not cover a dimension of the message: its keys cannot be returned without it."""


@dataclass(frozen=True, slots=True)
class Observation:
    """One observation of a data message, every component resolved to its value."""

    dataset: int
    """Index of its data set in the message."""
    dimensions: dict[str, str]
    """Every dimension (the time dimension included): its id or value."""
    measures: dict[str, Any]
    attributes: dict[str, Any]
    """Every attribute with a value, whatever its attachment (data set, series or observation)."""
    pointer: str
    """Where it is in the message (a JSON Pointer, or ``line N`` of CSV text)."""


@dataclass(frozen=True, slots=True)
class MaskedSdmx:
    """A masked message and what the audit entry says about it."""

    message: Any
    """The masked SDMX-JSON message (a dict), or SDMX-CSV text."""
    series_keys: tuple[str, ...]
    """Keys of the series returned (dimension values but the time dimension's, in key order, dot-separated)."""
    components: tuple[str, ...]
    """The components in the masked message, sorted."""
    observations: int
    """How many observations it holds."""


# --- SDMX-JSON 2.0 -----------------------------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise UnmaskableSdmx(message)


def _object(value: Any, where: str) -> dict[str, Any]:
    _require(isinstance(value, dict), f"{where} is not an object")
    return value  # type: ignore[no-any-return]


def _array(value: Any, where: str) -> list[Any]:
    _require(isinstance(value, list), f"{where} is not an array")
    return value  # type: ignore[no-any-return]


def _value_of(entry: Any, where: str) -> Any:
    """A dimension or attribute value entry: its ``id`` (coded) or ``value``."""
    entry = _object(entry, where)
    if "id" in entry:
        _require(isinstance(entry["id"], str), f"{where}.id is not a string")
        return entry["id"]
    _require("value" in entry, f"{where} has neither id nor value")
    value = entry["value"]
    _require(isinstance(value, str | int | float | bool), f"{where}.value is not a plain value")
    return value


@dataclass(frozen=True)
class _Structure:
    """What one structure of a data message says about its components."""

    raw: dict[str, Any]
    dataset_dimensions: list[dict[str, Any]]
    series_dimensions: list[dict[str, Any]]
    observation_dimensions: list[dict[str, Any]]
    measures: list[dict[str, Any]]
    dataset_attributes: list[dict[str, Any]]
    series_attributes: list[dict[str, Any]]
    observation_attributes: list[dict[str, Any]]
    key_order: list[str] = field(default_factory=list)
    """Dimension ids but the time dimension's, by ``keyPosition``: a series key's order."""

    def component_ids(self) -> list[str]:
        return [
            component["id"]
            for component in (
                *self.dataset_dimensions,
                *self.series_dimensions,
                *self.observation_dimensions,
                *self.measures,
                *self.dataset_attributes,
                *self.series_attributes,
                *self.observation_attributes,
            )
        ]

    def dimension_ids(self) -> list[str]:
        return [d["id"] for d in (*self.dataset_dimensions, *self.series_dimensions, *self.observation_dimensions)]


def _components(container: Any, level: str, where: str) -> list[dict[str, Any]]:
    if container is None:
        return []
    found = _object(container, where).get(level, [])
    items = _array(found, f"{where}.{level}")
    for index, item in enumerate(items):
        component = _object(item, f"{where}.{level}[{index}]")
        _require(isinstance(component.get("id"), str), f"{where}.{level}[{index}] has no id")
    return items


def _structure(raw: Any, where: str) -> _Structure:
    raw = _object(raw, where)
    dimensions = _object(raw.get("dimensions"), f"{where}.dimensions")
    unknown = set(dimensions) - {"dataSet", "series", "observation"}
    _require(not unknown, f"{where}.dimensions has unknown levels {sorted(unknown)}")
    attributes = raw.get("attributes")
    if attributes is not None:
        levels = set(_object(attributes, f"{where}.attributes"))
        _require(not levels - {"dataSet", "series", "observation", "dimensionGroup"}, f"{where}.attributes levels")
        _require(not attributes.get("dimensionGroup"), "group attributes (dimensionGroup) are not understood")
    measures_raw = raw.get("measures")
    if measures_raw is not None:
        _require(set(_object(measures_raw, f"{where}.measures")) <= {"observation"}, f"{where}.measures levels")
    structure = _Structure(
        raw=raw,
        dataset_dimensions=_components(dimensions, "dataSet", f"{where}.dimensions"),
        series_dimensions=_components(dimensions, "series", f"{where}.dimensions"),
        observation_dimensions=_components(dimensions, "observation", f"{where}.dimensions"),
        measures=_components(measures_raw, "observation", f"{where}.measures"),
        dataset_attributes=_components(attributes, "dataSet", f"{where}.attributes"),
        series_attributes=_components(attributes, "series", f"{where}.attributes"),
        observation_attributes=_components(attributes, "observation", f"{where}.attributes"),
    )
    for measure in structure.measures:
        _require("values" not in measure, f"measure {measure['id']} is coded, which is not understood")
    for dimension in (*structure.dataset_dimensions, *structure.series_dimensions, *structure.observation_dimensions):
        _require(isinstance(dimension.get("values"), list), f"dimension {dimension['id']} has no values")
        _require(isinstance(dimension.get("keyPosition"), int), f"dimension {dimension['id']} has no keyPosition")
    for attribute in (*structure.dataset_attributes, *structure.series_attributes, *structure.observation_attributes):
        _require(isinstance(attribute.get("values", []), list), f"attribute {attribute['id']} values")
    ids = structure.component_ids()
    _require(len(ids) == len(set(ids)), f"{where} names a component twice")
    every = [*structure.dataset_dimensions, *structure.series_dimensions, *structure.observation_dimensions]
    keyed = sorted((d for d in every if d["id"] != TIME_DIMENSION), key=lambda d: int(d["keyPosition"]))
    structure.key_order.extend(d["id"] for d in keyed)
    return structure


def _indexed(values: list[Any], index: Any, where: str) -> Any:
    """The value a message's index points at (``None`` for a null index)."""
    if index is None:
        return None
    _require(isinstance(index, int) and not isinstance(index, bool), f"{where} is not an index")
    _require(0 <= index < len(values), f"{where} points past the values")
    entry = values[index]
    return None if entry is None else _value_of(entry, f"{where} value")


def _key_values(key: str, dimensions: list[dict[str, Any]], where: str) -> dict[str, str]:
    parts = key.split(":") if dimensions else []
    _require(len(parts) == len(dimensions) and (bool(dimensions) or key in {"", "0"}), f"{where}: key {key!r}")
    found: dict[str, str] = {}
    for dimension, part in zip(dimensions, parts, strict=True):
        _require(part.isdigit(), f"{where}: key {key!r}")
        value = _indexed(dimension["values"], int(part), f"{where} key {dimension['id']}")
        _require(value is not None, f"{where}: dimension {dimension['id']} has no value")
        found[dimension["id"]] = str(value)
    return found


def _attribute_values(components: list[dict[str, Any]], indexes: Any, where: str) -> dict[str, Any]:
    if indexes is None:
        return {}
    indexes = _array(indexes, where)
    _require(len(indexes) <= len(components), f"{where} has more values than attributes")
    found: dict[str, Any] = {}
    for component, index in zip(components, indexes, strict=False):
        value = _indexed(component.get("values", []), index, f"{where} {component['id']}")
        if value is not None:
            found[component["id"]] = value
    return found


def _observation(
    structure: _Structure,
    dataset: int,
    context: tuple[dict[str, str], dict[str, Any]],
    key: str,
    array: Any,
    pointer: str,
    key_dimensions: list[dict[str, Any]],
) -> Observation:
    dimensions, attributes = context
    array = _array(array, pointer)
    measures_count = len(structure.measures)
    _require(len(array) >= measures_count, f"{pointer} lacks measure values")
    measures: dict[str, Any] = {}
    for measure, value in zip(structure.measures, array[:measures_count], strict=True):
        _require(value is None or isinstance(value, str | int | float | bool), f"{pointer} measure {measure['id']}")
        measures[measure["id"]] = value
    own = _attribute_values(structure.observation_attributes, array[measures_count:], pointer)
    return Observation(
        dataset=dataset,
        dimensions={**dimensions, **_key_values(key, key_dimensions, pointer)},
        measures=measures,
        attributes={**attributes, **own},
        pointer=pointer,
    )


def _read(message: Any) -> tuple[list[_Structure], list[Observation]]:
    message = _object(message, "the message")
    data = _object(message.get("data"), "data")
    structures = [_structure(raw, f"data.structures[{i}]") for i, raw in enumerate(_array(data.get("structures"), "s"))]
    found: list[Observation] = []
    for number, raw in enumerate(_array(data.get("dataSets", []), "data.dataSets")):
        where = f"/data/dataSets/{number}"
        dataset = _object(raw, where)
        _require("dimensionGroupAttributes" not in dataset, f"{where}: group attributes are not understood")
        index = dataset.get("structure", 0)
        _require(isinstance(index, int) and 0 <= index < len(structures), f"{where}/structure")
        structure = structures[index]
        base_dimensions = {
            d["id"]: str(_indexed(d["values"], 0, f"{where} {d['id']}")) for d in structure.dataset_dimensions
        }
        base_attributes = _attribute_values(structure.dataset_attributes, dataset.get("attributes"), where)
        _require(not ("series" in dataset and "observations" in dataset), f"{where} has series and observations")
        if "series" in dataset:
            _require(bool(structure.observation_dimensions), f"{where}: series without observation dimensions")
            for series_key, series in _object(dataset["series"], f"{where}/series").items():
                pointer = f"{where}/series/{series_key}"
                series = _object(series, pointer)
                dimensions = {**base_dimensions, **_key_values(series_key, structure.series_dimensions, pointer)}
                attributes = {
                    **base_attributes,
                    **_attribute_values(structure.series_attributes, series.get("attributes"), pointer),
                }
                for key, array in _object(series.get("observations", {}), pointer).items():
                    found.append(
                        _observation(
                            structure,
                            number,
                            (dimensions, attributes),
                            key,
                            array,
                            f"{pointer}/observations/{key}",
                            structure.observation_dimensions,
                        )
                    )
        else:
            _require(not structure.series_dimensions, f"{where}: flat observations with series dimensions")
            for key, array in _object(dataset.get("observations", {}), f"{where}/observations").items():
                found.append(
                    _observation(
                        structure,
                        number,
                        (base_dimensions, base_attributes),
                        key,
                        array,
                        f"{where}/observations/{key}",
                        structure.observation_dimensions,
                    )
                )
    return structures, found


def observations(message: Any) -> list[Observation]:
    """Every observation of an SDMX-JSON 2.0 data message, resolved; :class:`UnmaskableSdmx` if not understood."""
    return _read(message)[1]


def _folded(components: Iterable[str]) -> frozenset[str]:
    return frozenset(component.casefold() for component in components)


def _in_scope(dimensions: Mapping[str, str], scope: Scope | None) -> bool:
    if not scope:
        return True
    folded = {name.casefold(): value for name, value in dimensions.items()}
    for name, prefixes in scope.items():
        value = folded.get(name.casefold())
        if value is None or not value.startswith(tuple(prefixes)):
            return False
    return True


def _embargoed(attributes: Mapping[str, Any]) -> bool:
    return attributes.get(EMBARGO_ATTRIBUTE) not in (None, "")


def _keep(observation: Observation, scope: Scope | None, prerelease: bool) -> bool:
    return _in_scope(observation.dimensions, scope) and (prerelease or not _embargoed(observation.attributes))


def _series_key(dimensions: Mapping[str, str], key_order: Sequence[str]) -> str:
    return ".".join(dimensions[name] for name in key_order)


def _used(values: list[Any], wanted: set[Any], where: str) -> tuple[list[Any], dict[Any, int]]:
    """The values entries of ``wanted`` values, in their order, and each value's new index."""
    kept: list[Any] = []
    index: dict[Any, int] = {}
    for number, entry in enumerate(values):
        if entry is None:
            continue
        value = _value_of(entry, f"{where}[{number}]")
        if value in wanted and value not in index:
            index[value] = len(kept)
            kept.append(entry)
    return kept, index


def _rebuilt_components(
    components: list[dict[str, Any]], kept: Sequence[Observation], source: str, granted: frozenset[str] | None
) -> tuple[list[dict[str, Any]], list[dict[Any, int]]]:
    """Components (``granted`` ones only, unless ``None``) with the values the kept observations use."""
    out: list[dict[str, Any]] = []
    indexes: list[dict[Any, int]] = []
    for component in components:
        if granted is not None and component["id"].casefold() not in granted:
            continue
        wanted = {getattr(o, source).get(component["id"]) for o in kept} - {None}
        values, index = _used(component.get("values", []), wanted, component["id"])
        rebuilt = {**component, "values": values} if "values" in component else dict(component)
        if source == "attributes" and not values and "values" in component:
            rebuilt["values"] = [None]  # SDMX-JSON requires at least one entry; null is no value
        if source == "dimensions" and not values:
            # SDMX-JSON requires at least one value per dimension: keep the first (a code, never data)
            rebuilt["values"] = component["values"][:1]
            index = {}
        out.append(rebuilt)
        indexes.append(index)
    return out, indexes


def _mask_structure_group(
    structure: _Structure, kept: list[Observation], granted: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The masked structure and how to encode observations under it."""
    dimensions: dict[str, Any] = {}
    encoders: dict[str, Any] = {}
    for level, components in (
        ("dataSet", structure.dataset_dimensions),
        ("series", structure.series_dimensions),
        ("observation", structure.observation_dimensions),
    ):
        rebuilt, index = _rebuilt_components(components, kept, "dimensions", None)
        dimensions[level] = rebuilt
        encoders[f"dimensions.{level}"] = (rebuilt, index)
    attributes: dict[str, Any] = {}
    for level, components in (
        ("dataSet", structure.dataset_attributes),
        ("series", structure.series_attributes),
        ("observation", structure.observation_attributes),
    ):
        rebuilt, index = _rebuilt_components(components, kept, "attributes", granted)
        attributes[level] = rebuilt
        encoders[f"attributes.{level}"] = (rebuilt, index)
    measures = [measure for measure in structure.measures if measure["id"].casefold() in granted]
    encoders["measures"] = measures
    raw = dict(structure.raw)
    raw["dimensions"] = {level: items for level, items in dimensions.items() if level in structure.raw["dimensions"]}
    if "attributes" in structure.raw:
        raw["attributes"] = {
            level: items for level, items in attributes.items() if level in structure.raw["attributes"] or items
        }
    if "measures" in structure.raw:
        raw["measures"] = {"observation": measures}
    return raw, encoders


def _attribute_indexes(
    encoder: tuple[list[dict[str, Any]], list[dict[Any, int]]], values: Mapping[str, Any]
) -> list[int | None]:
    components, index = encoder
    return [index[n].get(values[c["id"]]) if c["id"] in values else None for n, c in enumerate(components)]


def _trimmed(indexes: list[int | None]) -> list[int | None]:
    while indexes and indexes[-1] is None:
        indexes.pop()
    return indexes


def _dimension_key(encoder: tuple[list[dict[str, Any]], list[dict[Any, int]]], values: Mapping[str, str]) -> str:
    components, index = encoder
    return ":".join(str(index[n][values[c["id"]]]) for n, c in enumerate(components))


def _encode_dataset(
    original: dict[str, Any], structure: _Structure, encoders: dict[str, Any], kept: list[Observation]
) -> dict[str, Any]:
    dataset = {name: value for name, value in original.items() if name not in {"series", "observations", "attributes"}}
    if "attributes" in original:
        base = kept[0].attributes if kept else {}
        dataset["attributes"] = _attribute_indexes(encoders["attributes.dataSet"], base) if kept else []
    measures = encoders["measures"]

    def array(observation: Observation) -> list[Any]:
        return [
            *(observation.measures.get(m["id"]) for m in measures),
            *_trimmed(_attribute_indexes(encoders["attributes.observation"], observation.attributes)),
        ]

    if "series" in original:
        series: dict[str, Any] = {}
        for observation in kept:
            key = _dimension_key(encoders["dimensions.series"], observation.dimensions)
            entry = series.setdefault(
                key,
                {
                    "attributes": _trimmed(_attribute_indexes(encoders["attributes.series"], observation.attributes)),
                    "observations": {},
                },
            )
            entry["observations"][_dimension_key(encoders["dimensions.observation"], observation.dimensions)] = array(
                observation
            )
        dataset["series"] = series
    else:
        dataset["observations"] = {
            _dimension_key(encoders["dimensions.observation"], o.dimensions): array(o) for o in kept
        }
    return dataset


def _check_grant(dimension_ids: Iterable[str], granted: frozenset[str]) -> None:
    missing = [name for name in dimension_ids if name.casefold() not in granted]
    if missing:
        raise UngrantedDimension(
            f"the grant does not cover the dimension(s) {', '.join(missing)}: SDMX data is returned with whole keys"
        )


def mask_sdmx_json(message: Any, components: Iterable[str], row_scope: Scope | None, prerelease: bool) -> MaskedSdmx:
    """``message`` (a parsed SDMX-JSON 2.0 data message) as a grant of ``components`` with ``row_scope`` sees it.

    Embargoed observations stay only when ``prerelease``. Raises :class:`UnmaskableSdmx` on anything not understood.
    """
    granted = _folded(components)
    structures, found = _read(message)
    if not prerelease:
        for number, structure in enumerate(structures):
            _require(
                EMBARGO_ATTRIBUTE in structure.component_ids(),
                f"structure {number} has no {EMBARGO_ATTRIBUTE}: which observations are embargoed is unknown",
            )
    for structure in structures:
        _check_grant(structure.dimension_ids(), granted)
    kept = [observation for observation in found if _keep(observation, row_scope, prerelease)]
    by_structure: dict[int, list[Observation]] = {}
    datasets = message["data"].get("dataSets", [])
    for observation in kept:
        by_structure.setdefault(datasets[observation.dataset].get("structure", 0), []).append(observation)
    masked_structures: list[dict[str, Any]] = []
    all_encoders: list[dict[str, Any]] = []
    returned: set[str] = set()
    for number, structure in enumerate(structures):
        raw, encoders = _mask_structure_group(structure, by_structure.get(number, []), granted)
        masked_structures.append(raw)
        all_encoders.append(encoders)
        returned.update(
            c["id"]
            for level in ("dimensions", "attributes", "measures")
            for group in ([raw.get(level, {})] if level != "measures" else [raw.get("measures", {})])
            for items in group.values()
            for c in items
        )
    masked_datasets = []
    for number, original in enumerate(datasets):
        index = original.get("structure", 0)
        mine = [observation for observation in kept if observation.dataset == number]
        masked_datasets.append(_encode_dataset(original, structures[index], all_encoders[index], mine))
    data = {**message["data"], "structures": masked_structures, "dataSets": masked_datasets}
    keys = {
        _series_key(observation.dimensions, structures[datasets[observation.dataset].get("structure", 0)].key_order)
        for observation in kept
    }
    return MaskedSdmx(
        message={**message, "data": data},
        series_keys=tuple(sorted(keys)),
        components=tuple(sorted(returned)),
        observations=len(kept),
    )


# --- SDMX-CSV 2.0 ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CsvHeader:
    """The columns of an SDMX-CSV 2.0 message and what each is."""

    columns: tuple[str, ...]
    head: tuple[int, ...]
    """Positions of STRUCTURE, STRUCTURE_ID, ACTION (and SERIES_KEY / OBS_KEY, custom columns)."""
    dimensions: tuple[int, ...]
    components: tuple[int, ...]
    """Positions of measures and attributes."""


def csv_header(columns: Sequence[str], dimensions: Sequence[str]) -> CsvHeader:
    """What the columns of a header row are, given the structure's dimension ids; :class:`UnmaskableSdmx` if odd."""
    _require(bool(columns) and columns[0] == "STRUCTURE", "the first column is not STRUCTURE (a sub-field separator?)")
    _require(len(columns) > 1 and columns[1] == "STRUCTURE_ID", "the second column is not STRUCTURE_ID")
    _require(len(set(columns)) == len(columns), "a column appears twice")
    head: list[int] = [0, 1]
    dimension_columns: list[int] = []
    component_columns: list[int] = []
    wanted = {*dimensions, TIME_DIMENSION}
    for position, name in enumerate(columns[2:], start=2):
        if name in {"ACTION", "SERIES_KEY", "OBS_KEY"} or name in CSV_CUSTOM_COLUMNS:
            head.append(position)
        elif name in wanted:
            dimension_columns.append(position)
        else:
            _require(
                bool(name) and all(ch.isalnum() or ch in "_-@$" for ch in name),
                f"column {name!r} is not a component id (labels, multi-valued or multi-lingual columns)",
            )
            component_columns.append(position)
    missing = wanted - {columns[position] for position in dimension_columns}
    _require(not missing, f"the dimension column(s) {sorted(missing)} are missing")
    return CsvHeader(tuple(columns), tuple(head), tuple(dimension_columns), tuple(component_columns))


def read_csv(text: str) -> Iterator[tuple[int, list[str]]]:
    """The records of SDMX-CSV text (RFC 4180) with the line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 1
    try:
        for record in reader:
            yield line, record
            line = reader.line_num + 1
    except csv.Error as error:
        raise UnmaskableSdmx(f"line {line}: {error}") from None


def mask_sdmx_csv(
    text: str,
    components: Iterable[str],
    row_scope: Scope | None,
    prerelease: bool,
    *,
    dimensions: Sequence[str],
) -> MaskedSdmx:
    """SDMX-CSV 2.0 ``text`` as a grant of ``components`` with ``row_scope`` sees it (see the module's rules).

    ``dimensions`` are the structure's dimension ids in key order (the time dimension included or not): CSV does
    not say which columns are dimensions. Raises :class:`UnmaskableSdmx` on anything not understood.
    """
    granted = _folded(components)
    records = read_csv(text)
    first = next(records, None)
    _require(first is not None, "the message has no header row")
    assert first is not None
    header = csv_header(first[1], dimensions)
    _check_grant((header.columns[p] for p in header.dimensions), granted)
    names = header.columns
    embargo = names.index(EMBARGO_ATTRIBUTE) if EMBARGO_ATTRIBUTE in names else None
    _require(prerelease or embargo is not None, f"no {EMBARGO_ATTRIBUTE} column: which rows are embargoed is unknown")
    returned = [
        p
        for p in range(len(names))
        if p in header.head or p in header.dimensions or (p in header.components and names[p].casefold() in granted)
    ]
    key_columns = [p for p in header.dimensions if names[p] != TIME_DIMENSION]
    key_order = [name for name in dimensions if name != TIME_DIMENSION]
    positions = {names[p]: p for p in key_columns}
    output = io.StringIO(newline="")
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow([names[p] for p in returned])
    keys: set[str] = set()
    count = 0
    for line, record in records:
        _require(len(record) == len(names), f"line {line} has {len(record)} fields, the header {len(names)}")
        values = {names[p]: record[p] for p in header.dimensions}
        if not _in_scope(values, row_scope):
            continue
        if not prerelease and embargo is not None and record[embargo] != "":
            continue
        writer.writerow([record[p] for p in returned])
        keys.add(".".join(record[positions[name]] for name in key_order if name in positions))
        count += 1
    return MaskedSdmx(
        message=output.getvalue(),
        series_keys=tuple(sorted(keys)),
        components=tuple(sorted(names[p] for p in returned if p not in header.head)),
        observations=count,
    )
