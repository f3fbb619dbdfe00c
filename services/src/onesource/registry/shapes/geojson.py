"""GeoJSON answers (RFC 7946) masked to a grant, as the gateway masks them (DESIGN.md "Answer shapes").

A GeoJSON answer is a Feature or a FeatureCollection — including an OGC API – Features items page, whose
collection also has ``links``, ``numberMatched``, ``numberReturned`` and ``timeStamp``, and the platform's cursor
pages with ``next_cursor``. Its *fields* are the members of each feature's ``properties`` plus ``geometry``; row
scope applies to ``properties``. The rules, the same as for record answers (``gateway.forwarding.masking``):

- a row scope (``{"division_code": ["3301", "3302"]}``) covers a feature when, for every listed field, the
  feature's property as text starts with one of the prefixes; a missing or null property is out; no scope covers
  all; a scope may also be any predicate over the properties. Scopes see the unmasked properties;
- a feature keeps only the granted properties (record metadata — ``version``, ``created_at``, ``updated_at`` —
  never); its ``geometry`` stays only when ``geometry`` is granted, and is ``null`` otherwise (RFC 7946 §3.2 keeps
  the member); its ``bbox`` only with its geometry; its ``id`` — the record key — only when the key field is
  granted; a feature out of every scope is dropped (a single Feature answer: ``None``, which the gateway answers
  as 404 like an absent record);
- a collection's ``numberReturned`` is recounted, its ``numberMatched`` dropped whenever rows are scoped (it would
  count records the caller may not see), its ``bbox`` kept only when every feature and its geometry were kept;
- anything not understood is refused (``ValueError``): another ``type``, a feature without ``properties``, a
  member RFC 7946 and OGC API – Features do not define (a foreign member), a geometry that is not one.

Pure: the parsed document in, a new masked document out; the input is not changed (the values it keeps are
shared with it, not copied).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from onesource.registry.shapes.scope import as_text
from onesource.registry.shapes.scope import in_scope as record_in_scope

#: Record metadata: how the owner keeps the record, not data shared under a grant.
METADATA_FIELDS: Final = frozenset({"version", "created_at", "updated_at"})
GEOMETRY: Final = "geometry"

#: The members each object may have (RFC 7946 §3; OGC API – Features – Part 1 §7.15–7.16; the platform's cursor).
FEATURE_MEMBERS: Final = frozenset({"type", "id", "geometry", "properties", "bbox", "links"})
COLLECTION_MEMBERS: Final = frozenset(
    {"type", "features", "bbox", "links", "numberMatched", "numberReturned", "timeStamp", "next_cursor"}
)
LINK_MEMBERS: Final = frozenset({"href", "rel", "type", "title", "hreflang", "length", "templated"})
#: Geometry types and the depth of nesting of their ``coordinates`` (0: one position).
GEOMETRY_DEPTHS: Final = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}

Properties = Mapping[str, Any]
RowScope = Callable[[Properties], bool] | Mapping[str, Sequence[str]] | None
"""Which features a grant covers: a predicate over the properties, prefixes by field, or ``None`` (all)."""
Visibility = Callable[[Properties], Collection[str] | None]
"""The fields a caller sees of a feature (the union over the grants whose scope covers it), ``None``: none covers it."""


@dataclass(frozen=True, slots=True)
class MaskedGeoJSON:
    """A masked answer and what the audit entry says about it."""

    document: dict[str, Any]
    collection: bool
    """Whether the answer is a FeatureCollection rather than one Feature."""
    keys: tuple[str, ...]
    """Record keys of the features returned, in order (read from the unmasked features)."""
    fields: tuple[str, ...]
    """The fields returned (property names, and ``geometry`` when a geometry was returned), sorted."""


def in_scope(properties: Properties, scope: RowScope) -> bool:
    """Whether a feature's properties lie within ``scope``: the record rule (``shapes.scope``), or the predicate."""
    if callable(scope):
        return bool(scope(properties))
    return record_in_scope(properties, scope)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_position(position: Any, where: str) -> None:
    if not isinstance(position, list) or not 2 <= len(position) <= 3 or not all(map(_is_number, position)):
        raise ValueError(f"{where}: not a GeoJSON position (two or three numbers)")


def _check_coordinates(coordinates: Any, depth: int, where: str) -> None:
    if depth == 0:
        _check_position(coordinates, where)
        return
    if not isinstance(coordinates, list):
        raise ValueError(f"{where}: coordinates nested {depth} levels deeper were expected")
    for index, part in enumerate(coordinates):
        _check_coordinates(part, depth - 1, f"{where}[{index}]")


def _check_bbox(bbox: Any, where: str) -> None:
    if not isinstance(bbox, list) or len(bbox) not in (4, 6) or not all(map(_is_number, bbox)):
        raise ValueError(f"{where}.bbox: not a GeoJSON bounding box (four or six numbers)")


def check_geometry(geometry: Any, where: str = "geometry") -> None:
    """Refuse (``ValueError``) what is not a GeoJSON geometry object (``null`` is one: an unlocated feature)."""
    if geometry is None:
        return
    if not isinstance(geometry, dict):
        raise ValueError(f"{where}: not a GeoJSON geometry object")
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        allowed = {"type", "geometries", "bbox"}
        parts = geometry.get("geometries")
        if not isinstance(parts, list):
            raise ValueError(f"{where}: a GeometryCollection without geometries")
        for index, part in enumerate(parts):
            if part is None:
                raise ValueError(f"{where}.geometries[{index}]: null inside a GeometryCollection")
            check_geometry(part, f"{where}.geometries[{index}]")
    elif kind in GEOMETRY_DEPTHS:
        allowed = {"type", "coordinates", "bbox"}
        if "coordinates" not in geometry:
            raise ValueError(f"{where}: a {kind} without coordinates")
        _check_coordinates(geometry["coordinates"], GEOMETRY_DEPTHS[kind], f"{where}.coordinates")
    else:
        raise ValueError(f"{where}: unknown geometry type {kind!r}")
    foreign = set(geometry) - allowed
    if foreign:
        raise ValueError(f"{where}: members GeoJSON does not define: {', '.join(sorted(map(str, foreign)))}")
    if "bbox" in geometry:
        _check_bbox(geometry["bbox"], where)


def _check_links(links: Any, where: str) -> None:
    if not isinstance(links, list):
        raise ValueError(f"{where}.links: not a list of links")
    for index, link in enumerate(links):
        if not isinstance(link, dict) or not isinstance(link.get("href"), str):
            raise ValueError(f"{where}.links[{index}]: a link needs an href")
        foreign = set(link) - LINK_MEMBERS
        if foreign:
            raise ValueError(f"{where}.links[{index}]: members a link does not have: {', '.join(sorted(foreign))}")
        if not all(isinstance(link[name], str) for name in ("rel", "type", "title", "hreflang") if name in link):
            raise ValueError(f"{where}.links[{index}]: rel, type, title and hreflang are text")


def check_feature(feature: Any, where: str = "feature") -> None:
    """Refuse (``ValueError``) what is not a GeoJSON Feature this module can mask."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ValueError(f"{where}: not a GeoJSON Feature")
    foreign = set(feature) - FEATURE_MEMBERS
    if foreign:
        raise ValueError(f"{where}: foreign members {', '.join(sorted(map(str, foreign)))}")
    if not isinstance(feature.get("properties"), dict):
        raise ValueError(f"{where}: a feature without properties")
    if "geometry" not in feature:
        raise ValueError(f"{where}: a feature without its geometry member")
    check_geometry(feature["geometry"], f"{where}.geometry")
    if "id" in feature and not (isinstance(feature["id"], str) or _is_number(feature["id"])):
        raise ValueError(f"{where}.id: a feature's id is a string or a number")
    if "bbox" in feature:
        _check_bbox(feature["bbox"], where)
    if "links" in feature:
        _check_links(feature["links"], where)


def check_document(document: Any) -> None:
    """Refuse (``ValueError``) what is not a Feature or FeatureCollection this module can mask."""
    if not isinstance(document, dict):
        raise ValueError("not a GeoJSON object")
    kind = document.get("type")
    if kind == "Feature":
        check_feature(document)
        return
    if kind != "FeatureCollection":
        raise ValueError(f"unknown GeoJSON type {kind!r}: only Feature and FeatureCollection answers are masked")
    foreign = set(document) - COLLECTION_MEMBERS
    if foreign:
        raise ValueError(f"FeatureCollection: foreign members {', '.join(sorted(map(str, foreign)))}")
    features = document.get("features")
    if not isinstance(features, list):
        raise ValueError("FeatureCollection: features is not a list")
    for index, feature in enumerate(features):
        check_feature(feature, f"features[{index}]")
    if "bbox" in document:
        _check_bbox(document["bbox"], "FeatureCollection")
    if "links" in document:
        _check_links(document["links"], "FeatureCollection")
    for name in ("numberMatched", "numberReturned"):
        if name in document and (not isinstance(document[name], int) or isinstance(document[name], bool)):
            raise ValueError(f"FeatureCollection.{name}: not an integer")
    if "timeStamp" in document and not isinstance(document["timeStamp"], str):
        raise ValueError("FeatureCollection.timeStamp: not text")
    if "next_cursor" in document and not (document["next_cursor"] is None or isinstance(document["next_cursor"], str)):
        raise ValueError("FeatureCollection.next_cursor: not text or null")


@dataclass(frozen=True, slots=True)
class _MaskedFeature:
    feature: dict[str, Any]
    key: str | None
    fields: frozenset[str]
    whole: bool
    """Whether its geometry was kept."""


def _key_of(feature: Mapping[str, Any], key: str | None) -> str | None:
    value = feature["properties"].get(key) if key is not None else None
    if value is None:
        value = feature.get("id")
    return None if value is None else as_text(value)


def _mask_feature(feature: Mapping[str, Any], visible: Visibility, key: str | None) -> _MaskedFeature | None:
    properties: Mapping[str, Any] = feature["properties"]
    granted = visible(properties)
    if granted is None:
        return None
    shown = frozenset(granted) - METADATA_FIELDS
    kept = {name: value for name, value in properties.items() if name in shown}
    with_geometry = GEOMETRY in shown and feature["geometry"] is not None
    masked: dict[str, Any] = {"type": "Feature"}
    if "id" in feature and (key in shown if key is not None else "id" in shown):
        masked["id"] = feature["id"]
    masked["geometry"] = feature["geometry"] if with_geometry else None
    masked["properties"] = kept
    if with_geometry and "bbox" in feature:
        masked["bbox"] = feature["bbox"]
    if "links" in feature:
        masked["links"] = [dict(link) for link in feature["links"]]
    fields = frozenset(kept) | ({GEOMETRY} if with_geometry else frozenset())
    return _MaskedFeature(masked, _key_of(feature, key), fields, with_geometry)


def mask_each(
    document: Any,
    visible: Visibility,
    *,
    key: str | None = None,
    row_scoped: bool = True,
    link: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> MaskedGeoJSON | None:
    """Mask a parsed GeoJSON answer feature by feature: ``visible(properties)`` names the fields the caller sees.

    ``key`` is the record-key property (``parcel_code``…): a feature's ``id`` mirrors it and is returned only with
    it. ``row_scoped``: whether ``visible`` may leave features out (then ``numberMatched`` is dropped). ``link``
    rewrites each link (the gateway seals the cursor of ``next``). ``None`` for a single Feature no grant covers;
    ``ValueError`` for anything not understood.
    """
    check_document(document)
    rewrite = link or (lambda found: found)
    if document["type"] == "Feature":
        masked = _mask_feature(document, visible, key)
        if masked is None:
            return None
        single = masked.feature
        if "links" in single:
            single["links"] = [rewrite(found) for found in single["links"]]
        keys = () if masked.key is None else (masked.key,)
        return MaskedGeoJSON(single, False, keys, tuple(sorted(masked.fields)))
    results = [_mask_feature(feature, visible, key) for feature in document["features"]]
    kept = [result for result in results if result is not None]
    for result in kept:
        if "links" in result.feature:
            result.feature["links"] = [rewrite(found) for found in result.feature["links"]]
    body: dict[str, Any] = {"type": "FeatureCollection", "features": [result.feature for result in kept]}
    if "bbox" in document and len(kept) == len(results) and all(result.whole for result in kept):
        body["bbox"] = document["bbox"]
    if "links" in document:
        body["links"] = [rewrite(dict(found)) for found in document["links"]]
    if "numberMatched" in document and not row_scoped:
        body["numberMatched"] = document["numberMatched"]
    if "numberReturned" in document:
        body["numberReturned"] = len(kept)
    if "timeStamp" in document:
        body["timeStamp"] = document["timeStamp"]
    if "next_cursor" in document:
        body["next_cursor"] = document["next_cursor"]
    fields: frozenset[str] = frozenset().union(*(result.fields for result in kept))
    found_keys: tuple[str, ...] = tuple(result.key for result in kept if result.key is not None)
    return MaskedGeoJSON(body, True, found_keys, tuple(sorted(fields)))


def mask(
    document: Any,
    fields: Collection[str],
    scope: RowScope = None,
    *,
    key: str | None = None,
    link: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> MaskedGeoJSON | None:
    """Mask a parsed GeoJSON answer to one grant: its ``fields``, and its row ``scope`` on the properties.

    See :func:`mask_each` for ``key``, ``link``, the answer and the refusals.
    """
    granted = frozenset(fields)
    scoped = scope is not None and (callable(scope) or bool(scope))

    def visible(properties: Properties) -> Collection[str] | None:
        return granted if in_scope(properties, scope) else None

    return mask_each(document, visible, key=key, row_scoped=scoped, link=link)
