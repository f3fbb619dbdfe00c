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
- of a registry written by loads (macroeconomy): each load that committed made one vintage holding what it sent (none
  for a refused or invalid load, at most one for an unknown one), with one release event in vintage order and one
  revision event per series whose values it changed; the dataflow's latest values are the last loads';
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
from tests.faults.registries import Loads, Profile
from tests.faults.workload import LoadCall, Write

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
class ObservedLoads:
    """What the run saw of a registry written by loads besides the history."""

    profile: Loads
    loads: Sequence[LoadCall]
    source: Sequence[Any]
    """Records of the release topic and the revision topic, in topic, partition and offset order."""
    vintages: Mapping[int, dict[str, Any]]
    """Every vintage of the dataflow at the end: ``request_id``, ``observation_count``, ``revised_count``,
    ``released_at``."""
    latest: Mapping[tuple[str, str], float | None]
    """The dataflow's latest value of each (series key, period) at the end."""
    delivery_topic: Sequence[Any]
    feed: Sequence[dict[str, Any]]
    audit_request_ids: Mapping[str, set[str]]
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


def check(history: History, observed: Sequence[Observed | ObservedLoads], audit_verified: Mapping[str, Any]) -> Report:
    """Every registry's writes, events, rows and answers checked; then what holds for the whole run."""
    report = Report()
    for seen in observed:
        anomalies: list[Anomaly] = []
        if isinstance(seen, ObservedLoads):
            counts = _check_loads(history, seen, anomalies)
        else:
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

    positions = {event_id: write.version for event_id, write in event_write.items()}
    ops = {event_id: write.op for event_id, write in event_write.items()}
    counts.update(_check_deliveries(observed, source, ours, positions, ops, anomalies))
    counts.update(_check_reads(history, observed, anomalies))
    return counts


def _check_deliveries(
    observed: Observed | ObservedLoads,
    source: Mapping[str, SourceEvent],
    ours: set[str],
    positions: Mapping[str, int],
    ops: Mapping[str, int],
    anomalies: list[Anomaly],
) -> dict[str, int]:
    """Every delivered event (feed and delivery topic) masked to the grant, from a source event, once, in order per
    record (``positions``: each source event's version or vintage; ``ops``: the write that caused it), and none of
    the source events due lost."""
    profile = observed.profile
    counts: dict[str, int] = {}
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
            if origin.id in positions:
                order[origin.key].append(positions[origin.id])
        for key, versions in order.items():
            if versions != sorted(versions):
                anomalies.append(Anomaly(f"{name}: delivered out of order: {versions}", key=key))
        for owed in due:
            if delivery_id(subscription, owed.id) not in seen:
                what = f"{name}: {owed.kind} event {owed.id} never delivered"
                anomalies.append(Anomaly(what, ops.get(owed.id), owed.key))
        counts[f"{name} events"] = len(delivered)
    return counts


def _check_reads(history: History, observed: Observed | ObservedLoads, anomalies: list[Anomaly]) -> dict[str, int]:
    """Every data answer that reached a caller masked to the grant (and valid GeoJSON where it is some), with its
    audit entry."""
    profile = observed.profile
    counts: dict[str, int] = {}
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
        elif isinstance(profile, Loads):  # a page of the release calendar
            shown = {name for item in answer.get("items", []) for name in item}
        else:
            shown = set(answer)
        if not shown <= observed.fields:
            beyond = sorted(shown - observed.fields)
            anomalies.append(Anomaly(f"read answered {beyond} beyond the grant", read.index, read.key))
        if read.key is None:
            continue  # an empty page: no record answered, none to find its audit entry by
        if read.detail["request_id"] not in observed.audit_request_ids.get(str(read.key), set()):
            anomalies.append(
                Anomaly(f"data answer {read.detail['request_id']} has no audit entry", read.index, read.key)
            )
    counts["data answers"] = len(reads)
    return counts


def _check_loads(history: History, observed: ObservedLoads, anomalies: list[Anomaly]) -> dict[str, int]:
    """A registry written by loads: each load that committed made one vintage (an acknowledged one the vintage it
    was answered, a refused or invalid one none, an unknown one at most one) holding what it sent; each vintage has
    one release event, in vintage order, and a revision event for each series whose values it changed from the
    vintages before it, nothing else; the dataflow's latest values are those of the last load that set each; the
    release events are delivered as the grant shows them, the answers masked and audited."""
    profile = observed.profile
    loads = observed.loads
    counts: dict[str, int] = {}
    by_request = {load.request_id: load for load in loads}

    # --- vintages: which loads committed -----------------------------------------------------------------------
    committed: dict[int, LoadCall] = {}
    made: dict[str, int] = {}
    for vintage, row in sorted(observed.vintages.items()):
        load = by_request.get(str(row["request_id"]))
        if load is None:
            anomalies.append(Anomaly(f"vintage {vintage} made by no load of the run (request {row['request_id']})"))
            continue
        if load.request_id in made:
            anomalies.append(
                Anomaly(f"load made vintages {made[load.request_id]} and {vintage}", load.op, profile.flow)
            )
        made[load.request_id] = vintage
        if load.outcome in ("refused", "failed") or not load.valid:
            what = "an invalid load" if not load.valid else f"a load that did not commit ({load.outcome})"
            anomalies.append(Anomaly(f"vintage {vintage} of {what}", load.op, profile.flow))
        if load.vintage is not None and load.vintage != vintage:
            anomalies.append(Anomaly(f"load answered vintage {load.vintage}, made {vintage}", load.op, profile.flow))
        committed[vintage] = load
    for load in loads:
        if load.outcome == "ok" and load.request_id not in made:
            what = f"acknowledged load (vintage {load.vintage}) has no vintage: lost"
            anomalies.append(Anomaly(what, load.op, profile.flow))
        if load.outcome == "ok" and not load.valid:
            anomalies.append(Anomaly("an invalid load was acknowledged", load.op, profile.flow))

    # What each vintage must hold and revise: the committed loads replayed in vintage order (a flow's loads are
    # serialised, so vintage order is commit order).
    state: dict[tuple[str, str], float | None] = {}
    revising: dict[int, set[str]] = {}
    for vintage, load in sorted(committed.items()):
        revised = {cell for cell, value in load.observations.items() if cell in state and state[cell] != value}
        revising[vintage] = {series for series, _ in revised}
        row = observed.vintages[vintage]
        held = (row["observation_count"], row["revised_count"], row["released_at"] is not None)
        wanted = (len(load.observations), len(revised), True)
        if held != wanted:
            what = f"vintage {vintage} holds (observations, revised, released) {held}, its load {wanted}"
            anomalies.append(Anomaly(what, load.op, profile.flow))
        state.update(load.observations)
    for cell in sorted(set(state) | set(observed.latest)):
        if observed.latest.get(cell) != state.get(cell):
            what = f"latest value of {cell} is {observed.latest.get(cell)}, the last load setting it: {state.get(cell)}"
            anomalies.append(Anomaly(what, key=profile.flow))

    # --- events -------------------------------------------------------------------------------------------------
    releases: dict[str, SourceEvent] = {}
    revisions: dict[str, SourceEvent] = {}
    for record in observed.source:
        value = record.value
        if not isinstance(value, dict):
            continue
        subject = str(value.get("subject"))
        if record.topic == profile.topic and subject == profile.flow:
            found, kind, expected = releases, "released", profile.release_type
        elif record.topic == profile.revision_topic and subject.startswith(f"{profile.flow}:"):
            found, kind, expected = revisions, "revised", profile.revision_type
        else:
            continue
        if value.get("type") != expected:
            anomalies.append(Anomaly(f"unknown event type {value.get('type')} on {record.topic}", key=subject))
            continue
        event_id = str(value["id"])
        if event_id in found:
            if found[event_id].value != value:
                anomalies.append(Anomaly(f"event {event_id} published twice with different content", key=subject))
            continue
        found[event_id] = SourceEvent(event_id, subject, kind, (record.partition, record.offset), value)
    counts["source events"] = len(releases) + len(revisions)

    released: dict[int, list[SourceEvent]] = defaultdict(list)
    for event in sorted(releases.values(), key=lambda e: e.offset):
        released[int(event.value["data"]["record"]["vintage"])].append(event)
    order = [
        int(event.value["data"]["record"]["vintage"]) for event in sorted(releases.values(), key=lambda e: e.offset)
    ]
    if order != sorted(order):
        anomalies.append(Anomaly(f"release events out of vintage order: {order}", key=profile.flow))
    for vintage in sorted(set(released) | set(committed)):
        events, load = released.get(vintage, []), committed.get(vintage)
        if load is None:
            ids = ", ".join(event.id for event in events)
            anomalies.append(
                Anomaly(f"release event {ids} for vintage {vintage}, which no load committed", key=profile.flow)
            )
        elif len(events) != 1:
            what = "has no release event" if not events else f"has {len(events)} release events"
            anomalies.append(Anomaly(f"vintage {vintage} {what}", load.op, profile.flow))
    revised_by: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for event in revisions.values():
        record = event.value["data"]["record"]
        revised_by[int(record["vintage"])][str(record["series_key"])].append(event.id)
    for vintage in sorted(set(revised_by) | set(revising)):
        got, load = revised_by.get(vintage, {}), committed.get(vintage)
        op = load.op if load is not None else None
        for series, copies in sorted(got.items()):
            if len(copies) > 1:
                what = f"vintage {vintage} revised {series} in {len(copies)} events"
                anomalies.append(Anomaly(what, op, profile.flow))
        if load is None:
            anomalies.append(
                Anomaly(f"revision events for vintage {vintage}, which no load committed", key=profile.flow)
            )
        elif set(got) != revising[vintage]:
            what = (
                f"vintage {vintage} has revision events of {sorted(got)}, its load revised {sorted(revising[vintage])}"
            )
            anomalies.append(Anomaly(what, op, profile.flow))

    counts["loads"] = len(loads)
    counts["acknowledged loads"] = sum(1 for load in loads if load.outcome == "ok")
    counts["unknown loads"] = sum(1 for load in loads if load.outcome == "unknown")
    counts["refused loads"] = sum(1 for load in loads if load.outcome == "refused")
    counts["vintages"] = len(committed)
    counts["revision events"] = len(revisions)

    # --- deliveries of the release events, reads of the calendar ------------------------------------------------
    positions = {event.id: int(event.value["data"]["record"]["vintage"]) for event in releases.values()}
    ops = {event_id: committed[vintage].op for event_id, vintage in positions.items() if vintage in committed}
    counts.update(_check_deliveries(observed, releases, {profile.flow}, positions, ops, anomalies))
    counts.update(_check_reads(history, observed, anomalies))
    return counts
