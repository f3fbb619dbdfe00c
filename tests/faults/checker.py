"""The checker: what the history, the topics and the final database must agree on, for each driven registry
(records are told apart by registry and key).

- every acknowledged write has exactly one event on its source topic (after deduplication by event id), and the
  events of a record come in version order (1, 2, … without a gap);
- no event for a write that did not commit (refused or never sent), none for a write never made, and an unknown
  write has at most one event (it took effect or it did not, never both);
- the record in the database is the last write of its chain of events (its version, and what each write set);
- every delivered event (HTTP feed and Kafka delivery topic) is masked to its grant, comes from a source event,
  arrives once after deduplication, in version order per record, and none of the source events it is due is lost;
- every data answer that reached a caller is masked to its grant and has its audit entry; the audit chain verifies;
- of a registry answering GeoJSON (geo): every answer is a valid Feature and every geometry in an answer, a source
  event or a delivered event is a valid geometry object (RFC 7946, polygons by the right-hand rule);
- no call is answered 500: an outage is a 502, 503 or 504 the caller may retry.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.faults.geojson import feature_problems, geometry_problems
from tests.faults.history import History
from tests.faults.registries import Profile
from tests.faults.workload import Write

#: As the exchange names a delivered event (``exchange.projector.service.delivery_id``); restated so the checker
#: does not trust the code it checks.
DELIVERY_NAMESPACE = uuid.UUID("5d1f3a5e-0b7c-4c8e-9a51-6f0e2c9b7d11")


@dataclass(frozen=True)
class Anomaly:
    what: str
    op: int | None = None
    """The history entry it is about, if one."""
    key: str | None = None
    registry: str | None = None


@dataclass(frozen=True)
class SourceEvent:
    id: str
    key: str
    kind: str
    offset: tuple[int, int]
    """(partition, offset) of its first copy."""
    value: dict[str, Any]


@dataclass
class Observed:
    """What the run saw of one registry besides the history: the writes made, the topics, the feed, the database
    and the audit log at the end."""

    profile: Profile
    writes: Sequence[Write]
    foreign: Iterable[str]
    """Keys the registry held before the run (not ours to check)."""
    source: Sequence[Any]
    """Records of the source topic (``kit.testing.kafka.Record``), in partition and offset order."""
    delivery_topic: Sequence[Any]
    feed: Sequence[dict[str, Any]]
    database: Mapping[str, dict[str, Any]]
    """Final rows of the workload's records: ``version`` and the profile's ``columns`` (dates as ISO strings)."""
    audit_request_ids: Mapping[str, set[str]]
    """Per record, the request ids of its audit entries."""
    feed_subscription: str
    topic_subscription: str
    subscribed_at: datetime
    fields: frozenset[str]


@dataclass
class Report:
    anomalies: list[Anomaly] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    """Over every registry (the sums of ``by_registry``) and of the whole run (calls, audit entries)."""
    by_registry: dict[str, dict[str, int]] = field(default_factory=dict)


def delivery_id(subscription: str, source_event: str) -> str:
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{subscription}/{source_event}"))


def _kind(profile: Profile, event_type: str) -> str | None:
    return next((kind for kind in profile.kinds if event_type == profile.event_type.format(kind)), None)


def _marker(profile: Profile, kind: str, record: Mapping[str, Any]) -> str:
    return str(record.get(profile.markers[kind]))


def _geometry_problems(event: Mapping[str, Any], where: str) -> list[str]:
    """What is wrong with the geometry an event's record carries (none when it carries none: not granted)."""
    record = (event.get("data") or {}).get("record") or {}
    geometry = record.get("geometry")
    return [] if geometry is None else geometry_problems(geometry, f"{where}: geometry")


def _feature_fields(feature: Mapping[str, Any]) -> set[str]:
    """The fields a Feature shows: its properties, and ``geometry`` when it has one (masked, it is null)."""
    return set(feature.get("properties") or {}) | ({"geometry"} if feature.get("geometry") is not None else set())


def check(history: History, observed: Sequence[Observed], audit_verified: Mapping[str, Any]) -> Report:
    """Every registry's writes, events, rows and answers checked; then what holds for the whole run."""
    report = Report()
    for seen in observed:
        anomalies: list[Anomaly] = []
        counts = _check_registry(history, seen, anomalies)
        report.anomalies += [
            Anomaly(a.what, a.op, a.key, seen.profile.name) if a.registry is None else a for a in anomalies
        ]
        report.by_registry[seen.profile.name] = counts
        for name, count in counts.items():
            report.counts[name] = report.counts.get(name, 0) + count
    if not audit_verified.get("ok"):
        report.anomalies.append(Anomaly(f"the audit chain does not verify: {audit_verified}"))
    report.counts["audit entries verified"] = int(audit_verified.get("entries", 0))
    # An outage is answered 502/503/504 (retry later); a 500 is a crash of ours, whatever the nemesis did.
    for call in history.of("call"):
        if call.detail.get("status") == 500:
            report.anomalies.append(Anomaly(f"{call.name} answered 500 (a crash, not an outage)", call.index, call.key))
    report.counts["calls"] = len(history.of("call"))
    report.counts["events"] = len(history.of("event"))
    return report


def _check_registry(history: History, observed: Observed, anomalies: list[Anomaly]) -> dict[str, int]:
    profile = observed.profile
    writes = observed.writes
    counts: dict[str, int] = {}
    foreign_keys = set(observed.foreign)
    ours = {write.key for write in writes} - foreign_keys
    by_marker = {(write.key, write.kind, write.marker): write for write in writes if write.key in ours}

    # --- source topic: dedupe by id, match to writes ------------------------------------------------------------
    source: dict[str, SourceEvent] = {}
    chains: dict[str, list[SourceEvent]] = defaultdict(list)
    for record in observed.source:
        value = record.value
        if not isinstance(value, dict) or value.get("subject") not in ours:
            continue
        kind = _kind(profile, str(value.get("type")))
        if kind is None:
            anomalies.append(Anomaly(f"unknown event type {value.get('type')} on the source topic", key=record.key))
            continue
        event_id = str(value["id"])
        if event_id in source:
            if source[event_id].value != value:
                anomalies.append(Anomaly(f"event {event_id} published twice with different content", key=record.key))
            continue
        if record.key != value["subject"]:
            anomalies.append(Anomaly(f"event {event_id} keyed {record.key}, about {value['subject']}", key=record.key))
        event = SourceEvent(event_id, str(value["subject"]), kind, (record.partition, record.offset), value)
        source[event_id] = event
        if profile.features:
            for problem in _geometry_problems(value, f"event {event_id}"):
                anomalies.append(Anomaly(f"source topic: {problem}", key=event.key))
        chains[event.key].append(event)
    counts["source events"] = len(source)
    counts["source copies"] = sum(
        1 for r in observed.source if isinstance(r.value, dict) and r.value.get("subject") in ours
    )

    matched: dict[int, list[SourceEvent]] = defaultdict(list)
    event_write: dict[str, Write] = {}
    for event in source.values():
        write = by_marker.get((event.key, event.kind, _marker(profile, event.kind, event.value["data"]["record"])))
        if write is None:
            anomalies.append(Anomaly(f"{event.kind} event {event.id} for a write never made", key=event.key))
            continue
        matched[write.op].append(event)
        event_write[event.id] = write
        if write.outcome in ("refused", "failed"):
            anomalies.append(
                Anomaly(
                    f"{event.kind} event {event.id} for a write that did not commit ({write.outcome})",
                    write.op,
                    write.key,
                )
            )
    for write in writes:
        if write.key not in ours:
            continue
        events = matched.get(write.op, [])
        if write.outcome == "ok" and not events:
            anomalies.append(
                Anomaly(f"acknowledged {write.kind} (version {write.version}) has no event: lost", write.op, write.key)
            )
        if len(events) > 1:
            ids = ", ".join(event.id for event in events)
            anomalies.append(
                Anomaly(f"{write.kind} ({write.outcome}) has {len(events)} events: {ids}", write.op, write.key)
            )
    counts["writes"] = sum(1 for write in writes if write.key in ours)
    counts["acknowledged writes"] = sum(1 for write in writes if write.key in ours and write.outcome == "ok")
    counts["unknown writes"] = sum(1 for write in writes if write.key in ours and write.outcome == "unknown")
    for kind in profile.kinds:
        counts[f"acknowledged {kind}"] = sum(
            1 for write in writes if write.key in ours and write.outcome == "ok" and write.kind == kind
        )

    # --- per record: version order, final state ------------------------------------------------------------------
    for key in sorted(ours):
        chain = [
            event_write[event.id]
            for event in sorted(chains.get(key, []), key=lambda e: e.offset)
            if event.id in event_write
        ]
        partitions = {event.offset[0] for event in chains.get(key, [])}
        if len(partitions) > 1:
            anomalies.append(Anomaly(f"events of one record on partitions {sorted(partitions)}", key=key))
        versions = [write.version for write in chain]
        if versions != list(range(1, len(versions) + 1)):
            op = chain[0].op if chain else None
            anomalies.append(Anomaly(f"events out of version order or with a gap: versions {versions}", op, key))
        row = observed.database.get(key)
        if not chain:
            if row is not None:
                anomalies.append(
                    Anomaly(f"record in the database (version {row['version']}) without any event", key=key)
                )
            continue
        if row is None:
            anomalies.append(Anomaly(f"{len(chain)} events but no record in the database", chain[-1].op, key))
            continue
        last = chain[-1]
        # What the row must hold: each write's fields over the ones before it, in the order of its events.
        expected: dict[str, Any] = {}
        for write in chain:
            expected.update(write.sets)
        expected["version"] = len(chain)
        actual = {name: row.get(name) for name in expected}
        if actual != expected:
            anomalies.append(
                Anomaly(f"database has {actual}, the last write of its events says {expected}", last.op, key)
            )
        acknowledged = [write.version for write in writes if write.key == key and write.outcome == "ok"]
        if acknowledged and max(acknowledged) > row["version"]:
            anomalies.append(
                Anomaly(f"database at version {row['version']} behind acknowledged {max(acknowledged)}", key=key)
            )

    # --- deliveries ----------------------------------------------------------------------------------------------
    # Due to a subscription: what happened after it was made, and of a change only one that set a granted field
    # (the projector does not deliver a change of nothing the grant shows).
    due = [
        event
        for event in source.values()
        if datetime.fromisoformat(event.value["time"]) >= observed.subscribed_at
        and ("changes" not in event.value["data"] or set(event.value["data"]["changes"]) & observed.fields)
    ]
    for name, subscription, delivered in (
        ("feed", observed.feed_subscription, list(observed.feed)),
        ("delivery topic", observed.topic_subscription, [r.value for r in observed.delivery_topic]),
    ):
        by_delivery = {delivery_id(subscription, e.id): e for e in source.values()}
        seen: dict[str, dict[str, Any]] = {}
        order: dict[str, list[int]] = defaultdict(list)
        for message in delivered:
            if not isinstance(message, dict):
                anomalies.append(Anomaly(f"{name}: a message that is not an event: {message!r:.80}"))
                continue
            got: dict[str, Any] = message
            data = got.get("data") or {}
            shown = set(data.get("record", {})) | set(data.get("changes", {}))
            if not shown <= observed.fields:
                anomalies.append(
                    Anomaly(
                        f"{name}: event {got['id']} shows {sorted(shown - observed.fields)} beyond the grant",
                        key=got.get("subject"),
                    )
                )
            if profile.features:
                for problem in _geometry_problems(got, f"event {got.get('id')}"):
                    anomalies.append(Anomaly(f"{name}: {problem}", key=got.get("subject")))
            if got.get("subject") not in ours:
                continue
            origin = by_delivery.get(got["id"])
            if origin is None:
                anomalies.append(Anomaly(f"{name}: event {got['id']} from no source event", key=got.get("subject")))
                continue
            expected_record = {k: v for k, v in origin.value["data"]["record"].items() if k in observed.fields}
            if data.get("record") != expected_record:
                anomalies.append(
                    Anomaly(
                        f"{name}: event {got['id']} says {data.get('record')}, its source {expected_record}",
                        key=origin.key,
                    )
                )
            if got["id"] in seen:
                continue
            seen[got["id"]] = got
            write = event_write.get(origin.id)
            if write is not None:
                order[origin.key].append(write.version)
        for key, versions in order.items():
            if versions != sorted(versions):
                anomalies.append(Anomaly(f"{name}: delivered out of version order: {versions}", key=key))
        for owed in due:
            if delivery_id(subscription, owed.id) not in seen:
                write = event_write.get(owed.id)
                anomalies.append(
                    Anomaly(
                        f"{name}: {owed.kind} event {owed.id} never delivered", write.op if write else None, owed.key
                    )
                )
        counts[f"{name} events"] = len(delivered)

    # --- reads: masked, audited ----------------------------------------------------------------------------------
    reads = [
        entry
        for entry in history.of("call", "read")
        if entry.outcome == "ok" and entry.detail.get("registry") == profile.name
    ]
    for read in reads:
        answer = read.detail.get("answer") or {}
        if profile.features:
            problems = feature_problems(answer, "answer")
            anomalies += [Anomaly(f"read: {problem}", read.index, read.key) for problem in problems]
            shown = _feature_fields(answer) if not problems else set()
        else:
            shown = set(answer)
        if not shown <= observed.fields:
            beyond = sorted(shown - observed.fields)
            anomalies.append(Anomaly(f"read answered {beyond} beyond the grant", read.index, read.key))
        if read.detail["request_id"] not in observed.audit_request_ids.get(str(read.key), set()):
            anomalies.append(
                Anomaly(f"data answer {read.detail['request_id']} has no audit entry", read.index, read.key)
            )
    counts["data answers"] = len(reads)
    return counts
