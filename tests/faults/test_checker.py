"""The checker over a legal-entity record's, a parcel's and a dataflow's loads' histories, without a mesh: a clean
history passes, and each kind of breakage it must name (a lost event, a wrong final row, a field beyond the grant, an
owed delivery missing, a geometry that is not valid GeoJSON, a refused load's vintage, a missing revision) is named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from onesource.kit.testing.kafka import Record
from tests.faults.checker import Observed, ObservedLoads, check, delivery_id
from tests.faults.geojson import geometry_problems
from tests.faults.history import History
from tests.faults.registries import GEO, LEGAL_ENTITY, MACROECONOMY
from tests.faults.workload import LoadCall, Write

USCC = "91110105MA01ABCD2X"
SUBSCRIBED = datetime(2026, 1, 1, tzinfo=UTC)
FEED, TOPIC = "feed-subscription", "topic-subscription"
FIELDS = frozenset(LEGAL_ENTITY.granted)


def _history() -> tuple[History, list[Write], list[dict[str, Any]]]:
    """Three acknowledged writes (registration, update, suspension) and the source events they caused."""
    history = History(seed=0)
    steps: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]] = [
        ("registered", "故障测试路a号", {"address": "故障测试路a号", "status": "active"}, None),
        ("updated", "故障测试路b号", {"address": "故障测试路b号"}, {"address": "故障测试路b号", "business_scope": "x"}),
        (
            "status-changed",
            "故障测试决定c号",
            {"status": "suspended", "status_reason": "故障测试决定c号"},
            {"status": "suspended", "status_reason": "故障测试决定c号", "status_effective_on": "2020-01-01"},
        ),
    ]
    writes: list[Write] = []
    events: list[dict[str, Any]] = []
    record: dict[str, Any] = {"uscc": USCC, "name": "示例公司", "legal_representative_id": "11010519491231002X"}
    for version, (kind, marker, sets, changes) in enumerate(steps, start=1):
        op = history.record("legal-entity-writer-0", "call", kind, key=USCC, registry="legal-entity")
        writes.append(Write(op.index, "legal-entity", USCC, version, kind, marker, version, sets, outcome="ok"))
        record = {**record, **sets}
        data: dict[str, Any] = {"record": dict(record)}
        if changes is not None:
            data["changes"] = changes
        events.append(
            {
                "id": f"event-{version}",
                "type": LEGAL_ENTITY.event_type.format(kind),
                "subject": USCC,
                "time": (SUBSCRIBED + timedelta(minutes=version)).isoformat(),
                "data": data,
            }
        )
    return history, writes, events


def _delivered(subscription: str, event: dict[str, Any]) -> dict[str, Any]:
    data = event["data"]
    masked: dict[str, Any] = {"record": {k: v for k, v in data["record"].items() if k in FIELDS}}
    if "changes" in data:
        masked["changes"] = {k: v for k, v in data["changes"].items() if k in FIELDS}
    return {**event, "id": delivery_id(subscription, event["id"]), "data": masked}


def _observed(writes: list[Write], events: list[dict[str, Any]], **changed: Any) -> Observed:
    source = [Record(LEGAL_ENTITY.topic, 0, n, USCC, event, {}) for n, event in enumerate(events)]
    topic = [Record("delivery", 0, n, USCC, _delivered(TOPIC, event), {}) for n, event in enumerate(events)]
    observed = Observed(
        profile=LEGAL_ENTITY,
        writes=writes,
        foreign=(),
        source=source,
        delivery_topic=topic,
        feed=[_delivered(FEED, event) for event in events],
        database={
            USCC: {"version": 3, "address": "故障测试路b号", "status": "suspended", "status_reason": "故障测试决定c号"}
        },
        audit_request_ids={},
        feed_subscription=FEED,
        topic_subscription=TOPIC,
        subscribed_at=SUBSCRIBED,
        fields=FIELDS,
    )
    return replace(observed, **changed)


def _anomalies(history: History, observed: Observed | ObservedLoads) -> list[str]:
    return [anomaly.what for anomaly in check(history, [observed], {"ok": True, "entries": 0}).anomalies]


def test_a_clean_history_passes_and_is_counted_by_registry() -> None:
    history, writes, events = _history()
    report = check(history, [_observed(writes, events)], {"ok": True, "entries": 0})
    assert report.anomalies == []
    assert report.by_registry["legal-entity"]["acknowledged status-changed"] == 1
    assert report.by_registry["legal-entity"]["feed events"] == 3


@pytest.mark.parametrize(
    ("breakage", "named"),
    [
        ("lost", "acknowledged status-changed (version 3) has no event: lost"),
        ("row", "database has"),
        ("beyond", "beyond the grant"),
        ("undelivered", "never delivered"),
    ],
)
def test_each_breakage_is_named(breakage: str, named: str) -> None:
    history, writes, events = _history()
    if breakage == "lost":
        observed = _observed(writes, events)
        observed = replace(observed, source=observed.source[:2])
        observed.database[USCC].update(version=2, status="active", status_reason=None)
    elif breakage == "row":
        observed = _observed(writes, events)
        observed.database[USCC]["status"] = "active"
    elif breakage == "beyond":
        leaked = _delivered(FEED, events[0])
        leaked["data"]["record"]["legal_representative_id"] = "11010519491231002X"
        observed = _observed(writes, events, feed=[leaked, *(_delivered(FEED, event) for event in events[1:])])
    else:
        observed = _observed(writes, events, feed=[_delivered(FEED, event) for event in events[:2]])
    assert any(named in anomaly for anomaly in _anomalies(history, observed)), _anomalies(history, observed)


# --- geo: GeoJSON answers and events ---------------------------------------------------------------------------

PARCEL = "110106001002GB00001"
GEO_FIELDS = frozenset(GEO.granted)
#: Counterclockwise, as RFC 7946 §3.1.6 wants an exterior ring; and the same ring clockwise.
SQUARE = [[116.3, 39.8], [116.301, 39.8], [116.301, 39.801], [116.3, 39.801], [116.3, 39.8]]
CLOCKWISE = SQUARE[::-1]


def _geo_history(ring: list[list[float]] = SQUARE) -> tuple[History, list[Write], list[dict[str, Any]]]:
    """A parcel registered, then retired: two acknowledged writes and their source events."""
    history = History(seed=0)
    geometry = {"type": "Polygon", "coordinates": [ring]}
    record: dict[str, Any] = {
        "parcel_code": PARCEL, "division_code": "110106", "land_use": "0701", "location_description": "故障测试路a号",
        "area_m2": 9000.0, "status": "active", "retired_on": None, "retirement_reason": None, "geometry": geometry,
    }  # fmt: skip
    retirement = {"status": "retired", "retired_on": "2025-01-02", "retirement_reason": "故障测试注销b号"}
    steps: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]] = [
        ("registered", "故障测试路a号", {"location_description": "故障测试路a号", "geometry": geometry}, None),
        ("retired", "故障测试注销b号", retirement, retirement),
    ]
    writes: list[Write] = []
    events: list[dict[str, Any]] = []
    for version, (kind, marker, sets, changes) in enumerate(steps, start=1):
        op = history.record("geo-writer-0", "call", kind, key=PARCEL, registry="geo")
        writes.append(Write(op.index, "geo", PARCEL, version, kind, marker, version, sets, outcome="ok"))
        record = {**record, **sets}
        data: dict[str, Any] = {"record": dict(record)}
        if changes is not None:
            data["changes"] = changes
        events.append(
            {
                "id": f"event-{version}",
                "type": GEO.event_type.format(kind),
                "subject": PARCEL,
                "time": (SUBSCRIBED + timedelta(minutes=version)).isoformat(),
                "data": data,
            }
        )
    return history, writes, events


def _geo_delivered(subscription: str, event: dict[str, Any], fields: frozenset[str] = GEO_FIELDS) -> dict[str, Any]:
    data = event["data"]
    masked: dict[str, Any] = {"record": {k: v for k, v in data["record"].items() if k in fields}}
    if "changes" in data:
        masked["changes"] = {k: v for k, v in data["changes"].items() if k in fields}
    return {**event, "id": delivery_id(subscription, event["id"]), "data": masked}


def _geo_observed(writes: list[Write], events: list[dict[str, Any]], **changed: Any) -> Observed:
    geometry = events[0]["data"]["record"]["geometry"]
    observed = Observed(
        profile=GEO,
        writes=writes,
        foreign=(),
        source=[Record(GEO.topic, 0, n, PARCEL, event, {}) for n, event in enumerate(events)],
        delivery_topic=[
            Record("delivery", 0, n, PARCEL, _geo_delivered(TOPIC, event), {}) for n, event in enumerate(events)
        ],
        feed=[_geo_delivered(FEED, event) for event in events],
        database={
            PARCEL: {
                "version": 2,
                "location_description": "故障测试路a号",
                "geometry": geometry,
                "status": "retired",
                "retired_on": "2025-01-02",
                "retirement_reason": "故障测试注销b号",
            }
        },
        audit_request_ids={PARCEL: {"read-1"}},
        feed_subscription=FEED,
        topic_subscription=TOPIC,
        subscribed_at=SUBSCRIBED,
        fields=GEO_FIELDS,
    )
    return replace(observed, **changed)


def _read(history: History, answer: dict[str, Any]) -> None:
    history.record("geo-reader-0", "call", "read", key=PARCEL, registry="geo", request_id="read-1", answer=answer)


def _answer(geometry: dict[str, Any] | None, **properties: Any) -> dict[str, Any]:
    shown = {"parcel_code": PARCEL, "location_description": "故障测试路a号", "status": "active", **properties}
    return {"type": "Feature", "id": PARCEL, "geometry": geometry, "properties": shown}


def test_a_clean_geo_history_passes() -> None:
    history, writes, events = _geo_history()
    _read(history, _answer({"type": "Polygon", "coordinates": [SQUARE]}))
    report = check(history, [_geo_observed(writes, events)], {"ok": True, "entries": 0})
    assert report.anomalies == []
    assert report.by_registry["geo"]["acknowledged retired"] == 1
    assert report.by_registry["geo"]["data answers"] == 1


@pytest.mark.parametrize(
    ("breakage", "named"),
    [
        ("clockwise", "an exterior ring runs clockwise"),
        ("unclosed answer", "answer.geometry.coordinates[0]: not closed"),
        ("crs", "has a 'crs' member"),
        ("no properties", "answer: no properties member"),
        ("land use answered", "read answered ['land_use'] beyond the grant"),
        ("area delivered", "shows ['area_m2'] beyond the grant"),
        ("geometry row", "database has"),
    ],
)
def test_each_geo_breakage_is_named(breakage: str, named: str) -> None:
    history, writes, events = _geo_history(CLOCKWISE if breakage == "clockwise" else SQUARE)
    answer = _answer({"type": "Polygon", "coordinates": [SQUARE]})
    observed = _geo_observed(writes, events)
    if breakage == "unclosed answer":
        answer["geometry"]["coordinates"] = [[*SQUARE[:-1], [116.3, 39.8005]]]
    elif breakage == "crs":
        events[0]["data"]["record"]["geometry"]["crs"] = {"type": "name", "properties": {"name": "EPSG:4490"}}
    elif breakage == "no properties":
        del answer["properties"]
    elif breakage == "land use answered":
        answer["properties"]["land_use"] = "0701"
    elif breakage == "area delivered":
        leaked = _geo_delivered(FEED, events[0])
        leaked["data"]["record"]["area_m2"] = 9000.0
        observed = replace(observed, feed=[leaked, _geo_delivered(FEED, events[1])])
    elif breakage == "geometry row":
        observed.database[PARCEL]["geometry"] = {"type": "Polygon", "coordinates": [CLOCKWISE]}
    _read(history, answer)
    assert any(named in anomaly for anomaly in _anomalies(history, observed)), _anomalies(history, observed)


def test_a_masked_geometry_is_null_and_valid() -> None:
    history, writes, events = _geo_history()
    _read(history, _answer(None))
    blind = GEO_FIELDS - {"geometry"}
    observed = _geo_observed(
        writes,
        events,
        fields=blind,
        feed=[_geo_delivered(FEED, event, blind) for event in events],
        delivery_topic=[
            Record("delivery", 0, n, PARCEL, _geo_delivered(TOPIC, event, blind), {}) for n, event in enumerate(events)
        ],
    )
    assert _anomalies(history, observed) == []


@pytest.mark.parametrize(
    ("geometry", "problem"),
    [
        ({"type": "Polygon", "coordinates": [SQUARE, [[116.3002, 39.8002], [116.3002, 39.8004], [116.3004, 39.8004],
          [116.3004, 39.8002], [116.3002, 39.8002]]]}, None),
        ({"type": "Polygon", "coordinates": [SQUARE, [[116.3002, 39.8002], [116.3004, 39.8002], [116.3004, 39.8004],
          [116.3002, 39.8004], [116.3002, 39.8002]]]}, "a hole runs counterclockwise"),
        ({"type": "MultiPolygon", "coordinates": [[SQUARE], [CLOCKWISE]]}, "coordinates[1][0]: an exterior ring"),
        ({"type": "Polygon", "coordinates": [SQUARE[:3]]}, "four or more positions"),
        ({"type": "Point", "coordinates": [200.0, 39.8]}, "is not longitude, latitude in degrees"),
        ({"type": "Point", "coordinates": [116.3]}, "not a position"),
        ({"type": "LineString", "coordinates": [[116.3, 39.8]]}, "two or more positions"),
        ({"type": "Circle", "coordinates": [116.3, 39.8]}, "unknown geometry type"),
        ({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [116.3, 39.8]}]}, None),
    ],
)  # fmt: skip
def test_geometry_problems_follow_rfc_7946(geometry: dict[str, Any], problem: str | None) -> None:
    found = geometry_problems(geometry)
    if problem is None:
        assert found == []
    else:
        assert any(problem in reason for reason in found), found


# --- macroeconomy: loads of vintages ---------------------------------------------------------------------------

FLOW = MACROECONOMY.flow
LOAD_FIELDS = frozenset(MACROECONOMY.granted)
GDP_330000 = "Q.330000.GDP.CUR"
GDP_110000 = "Q.110000.GDP.CUR"


def _loads_history() -> tuple[History, list[LoadCall], ObservedLoads]:
    """Three loads: the first (vintage 1) sets two cells, the second is refused (invalid), the third (vintage 2)
    revises one of them and adds a third; the release and revision events and the vintages they left."""
    history = History(seed=0)
    made = [
        ({(GDP_330000, "2024-Q1"): 1000.5, (GDP_110000, "2024-Q1"): 2000.25}, True, "ok", 1),
        ({(GDP_330000, "2024-Q2"): 1000.5}, False, "refused", None),
        ({(GDP_330000, "2024-Q1"): 3000.75, (GDP_110000, "2024-Q2"): 1000.5}, True, "ok", 2),
    ]
    loads = []
    for n, (observations, valid, outcome, vintage) in enumerate(made):
        op = history.record("macroeconomy-writer-0", "call", "load", key=FLOW, outcome=outcome)
        loads.append(LoadCall(op.index, "macroeconomy", f"request-{n}", observations, valid, outcome, vintage))
    releases: list[dict[str, Any]] = [
        {
            "id": f"release-{vintage}",
            "type": MACROECONOMY.release_type,
            "subject": FLOW,
            "time": (SUBSCRIBED + timedelta(minutes=vintage)).isoformat(),
            "data": {"record": {"flow": FLOW, "vintage": vintage, "status": "released", "observation_count": 2}},
        }
        for vintage in (1, 2)
    ]
    revision: dict[str, Any] = {
        "id": "revision-2",
        "type": MACROECONOMY.revision_type,
        "subject": f"{FLOW}:{GDP_330000}",
        "time": (SUBSCRIBED + timedelta(minutes=2)).isoformat(),
        "data": {"record": {"flow": FLOW, "series_key": GDP_330000, "vintage": 2, "time_periods": ["2024-Q1"]}},
    }
    source = [Record(MACROECONOMY.topic, 0, n, FLOW, event, {}) for n, event in enumerate(releases)]
    source.append(Record(MACROECONOMY.revision_topic, 0, 0, revision["subject"], revision, {}))
    masked = [
        {**event, "data": {"record": {k: v for k, v in event["data"]["record"].items() if k in LOAD_FIELDS}}}
        for event in releases
    ]
    released = "2026-01-01T00:00:00Z"
    observed = ObservedLoads(
        profile=MACROECONOMY,
        loads=loads,
        source=source,
        vintages={
            1: {"request_id": "request-0", "observation_count": 2, "revised_count": 0, "released_at": released},
            2: {"request_id": "request-2", "observation_count": 2, "revised_count": 1, "released_at": released},
        },
        latest={(GDP_330000, "2024-Q1"): 3000.75, (GDP_110000, "2024-Q1"): 2000.25, (GDP_110000, "2024-Q2"): 1000.5},
        delivery_topic=[
            Record("delivery", 0, n, FLOW, {**event, "id": delivery_id(TOPIC, event["id"])}, {})
            for n, event in enumerate(masked)
        ],
        feed=[{**event, "id": delivery_id(FEED, event["id"])} for event in masked],
        audit_request_ids={},
        feed_subscription=FEED,
        topic_subscription=TOPIC,
        subscribed_at=SUBSCRIBED,
        fields=LOAD_FIELDS,
    )
    return history, loads, observed


def test_a_clean_loads_history_passes() -> None:
    history, _, observed = _loads_history()
    report = check(history, [observed], {"ok": True, "entries": 0})
    assert report.anomalies == []
    assert report.by_registry["macroeconomy"]["vintages"] == 2
    assert report.by_registry["macroeconomy"]["revision events"] == 1


@pytest.mark.parametrize(
    ("breakage", "named"),
    [
        ("lost", "acknowledged load (vintage 2) has no vintage: lost"),
        ("refused committed", "vintage 3 of an invalid load"),
        ("revision missing", "vintage 2 has revision events of [], its load revised ['Q.330000.GDP.CUR']"),
        ("release twice", "vintage 2 has 2 release events"),
        ("latest", "latest value of ('Q.330000.GDP.CUR', '2024-Q1') is 1000.5"),
        ("counted", "vintage 2 holds (observations, revised, released) (2, 0, True), its load (2, 1, True)"),
        ("not released", "vintage 1 holds (observations, revised, released) (2, 0, False)"),
        ("undelivered", "never delivered"),
    ],
)
def test_each_loads_breakage_is_named(breakage: str, named: str) -> None:
    history, _, observed = _loads_history()
    if breakage == "lost":
        del observed.vintages[2]  # type: ignore[attr-defined]  # a dict, made above
    elif breakage == "refused committed":
        observed.vintages[3] = {  # type: ignore[index]
            "request_id": "request-1", "observation_count": 1, "revised_count": 0, "released_at": None,
        }  # fmt: skip
    elif breakage == "revision missing":
        observed = replace(observed, source=observed.source[:2])
    elif breakage == "release twice":
        again = {**observed.source[1].value, "id": "release-2-again"}
        observed = replace(observed, source=[*observed.source, Record(MACROECONOMY.topic, 0, 9, FLOW, again, {})])
    elif breakage == "latest":
        observed.latest[(GDP_330000, "2024-Q1")] = 1000.5  # type: ignore[index]
    elif breakage == "counted":
        observed.vintages[2]["revised_count"] = 0
    elif breakage == "not released":
        observed.vintages[1]["released_at"] = None
    else:
        observed = replace(observed, feed=list(observed.feed)[:1])
    assert any(named in anomaly for anomaly in _anomalies(history, observed)), _anomalies(history, observed)
