"""The checker over a legal-entity record's history, without a mesh: a clean history passes, and each kind of
breakage it must name (a lost event, a wrong final row, a field beyond the grant, an owed delivery missing) is named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from onesource.kit.testing.kafka import Record
from tests.faults.checker import Observed, check, delivery_id
from tests.faults.history import History
from tests.faults.registries import LEGAL_ENTITY
from tests.faults.workload import Write

USCC = "91110105MA01ABCD2X"
SUBSCRIBED = datetime(2026, 1, 1, tzinfo=UTC)
FEED, TOPIC = "feed-subscription", "topic-subscription"
FIELDS = frozenset(LEGAL_ENTITY.granted)


def _history() -> tuple[History, list[Write], list[dict[str, Any]]]:
    """Three acknowledged writes (registration, update, suspension) and the source events they caused."""
    history = History(seed=0)
    steps = [
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


def _anomalies(history: History, observed: Observed) -> list[str]:
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
