"""One fault run: a mesh whose broker sits behind a proxy, the workload, the nemesis, then the checker.

``python -m tests.faults --seed 7 --faults 100`` runs one from the command line (``make test-faults``); the same
seed makes the same choices (which faults, in what order, when; which records; which calls), so a failing run can
be replayed — the timing of a real mesh under faults still varies from run to run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import shapely
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from onesource.kit.embedded import EmbeddedKafka, find_free_port
from onesource.kit.testing.kafka import Record, TopicReader
from onesource.kit.testing.proxy import TcpProxy
from onesource.mesh.seed import seed_catalog, seed_demo, seed_platform, seed_subscriptions
from onesource.mesh.state import read_health, read_pids
from onesource.registry.directory import registries
from onesource.standards.uscc import check_character, organisation_code_check_character
from tests.faults.checker import Observed, ObservedLoads, Report, check
from tests.faults.history import History
from tests.faults.nemesis import KINDS, PROJECTOR_GROUP, Nemesis
from tests.faults.registries import PROFILES, Described, Loads, Profile
from tests.faults.workload import Driven, Grant, Grantee, Workload
from tests.mesh_process import start_mesh, stop_mesh

OWNER_PURPOSE = "registry-maintenance"
#: How long the mesh gets, once healed, to publish and deliver everything.
SETTLE_S = 120.0
#: How long the projector gets to catch up (it works through the demo data's events too).
PROJECTED_S = 300.0
#: The demo department whose coordinator confirms a conditional share (``onesource.mesh.seed.DEMO_CLIENTS``).
COORDINATOR = "bdb-coordinator"
TOKEN_REFRESH_S = 300.0


@dataclass
class Outcome:
    seed: int
    faults: dict[str, int]
    report: Report
    history: History
    seconds: float
    log_dir: Path
    notes: list[str] = field(default_factory=list)
    profiles: tuple[str, ...] = ()
    """The registries driven."""

    def failure_text(self, limit: int = 5) -> str:
        lines = [
            f"fault run with seed {self.seed}: {len(self.report.anomalies)} anomalies "
            f"(replay: python -m tests.faults --seed {self.seed} --faults {sum(self.faults.values())}"
            f" --profiles {' '.join(self.profiles)}; "
            f"history and logs in {self.log_dir})"
        ]
        for anomaly in self.report.anomalies[:limit]:
            lines.append(f"\n✖ {anomaly.what} ({anomaly.registry} record {anomaly.key}, entry {anomaly.op})")
            if anomaly.op is not None or anomaly.key is not None:
                index = (
                    anomaly.op
                    if anomaly.op is not None
                    else next((op.index for op in self.history.ops if op.key == anomaly.key), 0)
                )
                lines.append(self.history.excerpt(index, key=anomaly.key))
        return "\n".join(lines)


def _uscc() -> str:
    body8 = "".join(secrets.choice("0123456789") for _ in range(8))
    body17 = "11110000" + body8 + organisation_code_check_character(body8)
    return body17 + check_character(body17)


async def _token(client: httpx.AsyncClient, gateway: str, client_id: str, secret: str) -> str:
    response = await client.post(
        f"{gateway}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def _eventually(check: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError(f"not true after {timeout} s: {what}")
        await asyncio.sleep(0.3)


async def _grantee(
    client: httpx.AsyncClient,
    gateway: str,
    admin: dict[str, str],
    profiles: tuple[Described, ...],
    secrets_of: dict[str, str],
) -> Grantee:
    """A department of its own with a consumer and, on each registry's resource, a grant and a feed and a Kafka
    subscription."""
    code = "f" + secrets.token_hex(4)
    created = await client.post(
        f"{gateway}/api/identity/v1/departments",
        headers=admin,
        json={"code": code, "name": f"故障测试局 {code}", "uscc": _uscc()},
    )
    created.raise_for_status()
    made = await client.post(
        f"{gateway}/api/identity/v1/clients",
        headers=admin,
        json={"department": code, "name": "故障测试系统", "roles": ["consumer"]},
    )
    made.raise_for_status()
    client_id, secret = made.json()["client_id"], made.json()["client_secret"]
    bearer = f"Bearer {await _token(client, gateway, client_id, secret)}"
    grantee = Grantee(client_id=client_id, headers={}, grants={}, secret=secret)
    for profile in profiles:
        grantee.grants[profile.name], grantee.headers[profile.name] = await _grant(
            client, gateway, bearer, profile, secrets_of
        )
    return grantee


async def _grant(
    client: httpx.AsyncClient, gateway: str, bearer: str, profile: Described, secrets_of: dict[str, str]
) -> tuple[Grant, dict[str, str]]:
    """A grant on ``profile``'s resource and the two subscriptions under it.

    An unconditional resource is granted at once; a conditional one once the owner's steward has approved the request
    and the coordinator confirmed it (DESIGN.md, exchange-service).
    """
    asked = await client.post(
        f"{gateway}/api/exchange/v1/share-requests",
        headers={"Authorization": bearer},
        json={
            "resource": profile.resource,
            "fields": list(profile.granted),
            "purpose": profile.purpose,
            "legal_basis": profile.legal_basis,
        },
    )
    asked.raise_for_status()
    granted = asked.json()
    if granted["status"] == "pending_provider":
        steward = f"{profile.owner}-steward"
        request = f"{gateway}/api/exchange/v1/share-requests/{granted['id']}"
        decided = await client.post(
            f"{request}/decision",
            headers={"Authorization": f"Bearer {await _token(client, gateway, steward, secrets_of[steward])}"},
            json={"approve": True, "fields": list(profile.granted)},
        )
        decided.raise_for_status()
        coordinator = f"Bearer {await _token(client, gateway, COORDINATOR, secrets_of[COORDINATOR])}"
        confirmed = await client.post(f"{request}/confirm", headers={"Authorization": coordinator})
        confirmed.raise_for_status()
        granted = confirmed.json()
    assert granted["status"] == "granted", granted
    headers = {"Authorization": bearer, "X-OneSource-Purpose": quote(profile.purpose, safe="")}
    subscriptions = {}
    for delivery in ("feed", "kafka"):
        subscribed = await client.post(
            f"{gateway}/api/exchange/v1/subscriptions",
            headers=headers,
            json={"resource": profile.resource, "delivery": delivery},
        )
        subscribed.raise_for_status()
        subscriptions[delivery] = subscribed.json()

    async def readable() -> bool:
        answer = await client.get(f"{gateway}{profile.collection}", params={"limit": 1}, headers=headers)
        return answer.status_code == 200

    await _eventually(readable, f"the grant on {profile.resource} reaches the gateway")
    grant = Grant(
        grant_id=granted["grant_id"],
        fields=frozenset(profile.granted),
        feed=subscriptions["feed"]["id"],
        topic_subscription=subscriptions["kafka"]["id"],
        topic=subscriptions["kafka"]["topic"],
        subscribed_at=max(datetime.fromisoformat(s["created_at"]) for s in subscriptions.values()),
    )
    return grant, headers


async def _pending(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM outbox_event WHERE published_at IS NULL"))
    finally:
        await connection.close()


def _database(var: Path, pg_port: int, profile: Described) -> str:
    """The DSN of ``profile``'s database: on the mesh's PostgreSQL, or on its PostgreSQL with PostGIS (geo's)."""
    port = pg_port
    if profile.postgis:
        pids = read_pids(var)
        if pids is None or pids.postgis is None:
            raise RuntimeError(f"{profile.name} needs the mesh's PostgreSQL with PostGIS; it runs none")
        port = pids.postgis.port
    return f"postgresql://postgres@127.0.0.1:{port}/{profile.database}"


async def _settle(
    var: Path, pg_port: int, workload: Workload, services: dict[str, str], bootstrap: str
) -> dict[str, list[Record]]:
    """Wait until every service is ready, the registries' outboxes are published, the projector has handled every
    event of the source topics about the run's records, and the exchange's outbox is published; the source topics
    then, by registry."""
    async with httpx.AsyncClient(timeout=2.0) as client:
        for name, url in services.items():

            async def ready(url: str = url) -> bool:
                with contextlib.suppress(httpx.HTTPError):
                    return (await client.get(f"{url}/readyz")).status_code == 200
                return False

            await _eventually(ready, f"{name} ready after the faults", SETTLE_S)

    async def published(dsn: str) -> bool:
        return await _pending(dsn) == 0

    sources: dict[str, list[Record]] = {}
    ours: set[str] = set()
    for name, driven in workload.registries.items():
        profile = driven.profile
        dsn = _database(var, pg_port, profile)
        await _eventually(lambda d=dsn: published(d), f"{name}'s outbox published", SETTLE_S)
        # What the run's subscriptions follow: the records' topic, or the release events of the loaded dataflow.
        keys = {profile.flow} if isinstance(profile, Loads) else {write.key for write in driven.writes}
        source = await TopicReader(bootstrap).read(profile.topic, settle=3.0)
        ours |= {str(r.value["id"]) for r in source if isinstance(r.value, dict) and r.value.get("subject") in keys}
        if isinstance(profile, Loads):
            source += await TopicReader(bootstrap).read(profile.revision_topic, settle=3.0)
        sources[name] = source

    async def projected() -> bool:
        connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/onesource_exchange")
        try:
            handled = await connection.fetchval(
                "SELECT count(*) FROM handled_event"
                " WHERE consumer = 'exchange-projector' AND event_id = ANY($1::text[])",
                list(ours),
            )
        finally:
            await connection.close()
        return int(handled) == len(ours)

    # Not fatal: an event the projector never handles is a finding of the checker's ("never delivered").
    with contextlib.suppress(RuntimeError):
        await _eventually(projected, f"the projector handled the run's {len(ours)} events", PROJECTED_S)
    exchange = f"postgresql://postgres@127.0.0.1:{pg_port}/onesource_exchange"
    await _eventually(lambda: published(exchange), "the exchange's outbox published", SETTLE_S)

    def fed() -> int:
        return sum(len(driven.feed_events) for driven in workload.registries.values())

    quiet_since, seen = time.monotonic(), fed()
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() - quiet_since < 4.0 and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if fed() != seen:
            quiet_since, seen = time.monotonic(), fed()
    return sources


async def _followed_topics(pg_port: int) -> list[str]:
    """The source topics the projector follows: those of the exchange's published resources."""
    connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/onesource_exchange")
    try:
        rows = await connection.fetch(
            "SELECT DISTINCT topic FROM catalog_resource WHERE status = 'published' AND topic IS NOT NULL"
        )
    finally:
        await connection.close()
    return sorted(str(row["topic"]) for row in rows if row["topic"])


async def _lag(bootstrap: str, topics: list[str]) -> dict[str, int]:
    """Per topic, how many of its events the projector's group has not yet committed past (-1: the topic does not
    exist yet, so the projector cannot have read it)."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await reader.start()
    await admin.start()
    try:
        await reader.topics()  # fills the metadata the partitions are read from
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in sorted(reader.partitions_for_topic(topic) or ())
        ]
        ends = await reader.end_offsets(partitions) if partitions else {}
        committed = await admin.list_consumer_group_offsets(PROJECTOR_GROUP, partitions=partitions)
    finally:
        await reader.stop()
        await admin.close()
    lag: dict[str, int] = {topic: 0 if reader_knows else -1 for topic, reader_knows in _known(partitions, topics)}
    for partition, end in ends.items():
        found = committed.get(partition)
        at = found.offset if found is not None and found.offset >= 0 else 0
        lag[partition.topic] += max(0, end - at)
    return lag


def _known(partitions: list[TopicPartition], topics: list[str]) -> list[tuple[str, bool]]:
    """Each topic, and whether it has partitions (it exists)."""
    having = {partition.topic for partition in partitions}
    return [(topic, topic in having) for topic in topics]


async def _projector_caught_up(var: Path, pg_port: int, bootstrap: str, profiles: tuple[Described, ...]) -> str:
    """Wait until the projector's group has committed every event of every source topic it follows; what it was
    behind by, and how long it took.

    Geo publishes its division list at its first start: thousands of events before the run's own, which the
    projector passes over (they precede every subscription) but must still read. Faults that strike while it is that
    far behind would test its backlog, not the run's writes; and the settling time after the faults would have to
    cover it. Started after it, every event the checker waits for is the run's.
    """
    started = time.monotonic()
    for profile in profiles:  # geo's division events on their topic first
        dsn = _database(var, pg_port, profile)

        async def published(dsn: str = dsn) -> bool:
            return await _pending(dsn) == 0

        await _eventually(published, f"{profile.name}'s outbox published before the first fault", PROJECTED_S)
    topics = await _followed_topics(pg_port)
    first = await _lag(bootstrap, topics)

    async def caught_up() -> bool:
        return all(count == 0 for count in (await _lag(bootstrap, topics)).values())

    await _eventually(caught_up, f"the projector worked through its backlog on {topics}", PROJECTED_S)
    behind = (
        ", ".join(
            f"{topic} {'(not created yet)' if count < 0 else count}" for topic, count in sorted(first.items()) if count
        )
        or "nothing"
    )
    return f"projector backlog before the first fault: {behind} (worked through in {time.monotonic() - started:.0f} s)"


async def _vintages(dsn: str, loads: Loads) -> tuple[dict[int, dict[str, Any]], dict[tuple[str, str], float | None]]:
    """Every vintage of the loaded dataflow (its request id, counts, release), and its latest value of each
    (series key, period)."""
    connection = await asyncpg.connect(dsn)
    try:
        vintages = await connection.fetch(
            "SELECT id, request_id, observation_count, revised_count, released_at FROM vintage WHERE flow_id = $1",
            loads.flow,
        )
        latest = await connection.fetch(
            "SELECT DISTINCT ON (s.key, o.time_period) s.key, o.time_period, o.value"
            " FROM observation o JOIN series s ON s.id = o.series_id WHERE s.flow_id = $1"
            " ORDER BY s.key, o.time_period, o.vintage_id DESC",
            loads.flow,
        )
    finally:
        await connection.close()
    return (
        {int(row["id"]): dict(row) for row in vintages},
        {(str(row["key"]), str(row["time_period"])): row["value"] for row in latest},
    )


async def _final_rows(dsn: str, profile: Profile, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The rows of ``keys``: their version and the columns the checker compares, dates as ISO strings."""
    connection = await asyncpg.connect(dsn)
    # A geometry as WKB, read here by Shapely rather than by the registry's code that the checker checks.
    selected = [f"ST_AsBinary({name}) AS {name}" if _is_geometry(profile, name) else name for name in profile.columns]
    try:
        columns = ", ".join([profile.key, "version", *selected])
        rows = await connection.fetch(
            f"SELECT {columns} FROM {profile.table} WHERE {profile.key} = ANY($1::text[])",  # names of ours, not input
            keys,
        )
    finally:
        await connection.close()
    return {
        row[profile.key]: {
            name: _geojson(value)
            if _is_geometry(profile, name)
            else value.isoformat()
            if isinstance(value, date)
            else value
            for name, value in row.items()
        }
        for row in rows
    }


def _is_geometry(profile: Profile, column: str) -> bool:
    return profile.features and column == "geometry"


def _geojson(wkb: bytes | None) -> dict[str, Any] | None:
    """A stored geometry as a GeoJSON geometry object, coordinates as lists (as a JSON answer has them)."""
    if wkb is None:
        return None
    geometry = shapely.geometry.mapping(shapely.from_wkb(wkb))

    def lists(coordinates: Any) -> Any:
        return [lists(part) for part in coordinates] if isinstance(coordinates, tuple | list) else coordinates

    return {"type": geometry["type"], "coordinates": lists(geometry["coordinates"])}


async def _audit(
    client: httpx.AsyncClient, gateway: str, admin: dict[str, str], resource: str, keys: set[str]
) -> dict[str, set[str]]:
    """Per record of ``resource``, the request ids of its audit entries (as an admin: every registry's)."""
    found: dict[str, set[str]] = {}
    for key in sorted(keys):
        ids: set[str] = set()
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            response = await client.get(
                f"{gateway}/api/audit/v1/records/{resource}/{key}", params=params, headers=admin
            )
            response.raise_for_status()
            page = response.json()
            ids |= {item["request_id"] for item in page["items"]}
            cursor = page.get("next_cursor")
            if not cursor:
                break
        found[key] = ids
    return found


async def _keep_tokens(client: httpx.AsyncClient, gateway: str, holders: list[tuple[dict[str, str], str, str]]) -> None:
    """Give the workload's clients new tokens every few minutes (they live 15 minutes; a full run is longer)."""
    while True:
        await asyncio.sleep(TOKEN_REFRESH_S)
        for headers, client_id, secret in holders:
            while True:
                try:
                    headers["Authorization"] = f"Bearer {await _token(client, gateway, client_id, secret)}"
                    break
                except httpx.HTTPError:  # the gateway is down for a moment
                    await asyncio.sleep(2.0)


def _seed(var: Path, document: dict[str, Any], admin_secret: str, driven: set[str]) -> list[dict[str, Any]]:
    """What `onesource up` seeds but the demo records: departments, clients, catalog, registries' own clients and
    subscriptions."""
    running = set(document["services"])
    # Geo's resources only when geo is driven: the projector then follows its topics, the thousands of division events
    # geo publishes at its first start among them, and the set-up waits until it has worked through them
    # (`_projector_caught_up`). A run without geo need not wait.
    found = [
        registry
        for registry in registries()
        if registry.service in running and (registry.service != "geo" or "geo" in driven)
    ]
    with httpx.Client(base_url=str(document["gateway"]), timeout=30.0) as gateway:
        clients = seed_demo(gateway, admin_secret)
        seed_catalog(gateway, {client.client_id: client for client in clients}, found=found)
        clients += seed_platform(gateway, var.resolve() / "secrets", found=found)
        seed_subscriptions(gateway, {client.client_id: client for client in clients}, found=found)
    return [client.as_json() for client in clients]


@contextlib.contextmanager
def _broker(log_dir: Path) -> Iterator[tuple[EmbeddedKafka, int]]:
    door = find_free_port()
    broker = EmbeddedKafka(port=find_free_port(), advertised_port=door, log_path=log_dir / "tansu.log")
    broker.start()
    try:
        yield broker, door
    finally:
        broker.stop()


async def run(seed: int, faults: int, work: Path, *, profiles: tuple[Described, ...] = PROFILES) -> Outcome:
    """One run of ``faults`` faults over a mesh started in ``work``, driving ``profiles``; the checker's report."""
    rng = random.Random(seed)
    history = History(seed)
    started = time.monotonic()
    work.mkdir(parents=True, exist_ok=True)
    with _broker(work) as (broker, door):
        # The mesh reaches the broker through the proxy only (Tansu tells clients to connect to the door), so
        # cutting the proxy is an outage for every service, and the broker keeps its topics.
        proxy = TcpProxy(door, broker.host, broker.port)
        await proxy.start()
        bootstrap = f"127.0.0.1:{door}"
        pg_port = find_free_port()
        env = {
            **os.environ,
            "ONESOURCE_BOOTSTRAP_ADMIN_SECRET": "faults-" + secrets.token_hex(8),
            "ONESOURCE_KAFKA_BOOTSTRAP": bootstrap,
            "ONESOURCE_KAFKA_IDEMPOTENCE": "false",  # Tansu rejects InitProducerId (see tests/faults/test_producer.py)
        }
        env.pop("ONESOURCE_MESH_DATABASE_URL", None)  # the nemesis restarts the mesh's own PostgreSQL
        var = work / "var"
        # Without the demo records: thousands of registrations the projector would work through before the run's.
        process, document = await asyncio.to_thread(start_mesh, var, env, pg_port=pg_port, seed=False)
        try:
            document["demo_clients"] = await asyncio.to_thread(
                _seed, var, document, env["ONESOURCE_BOOTSTRAP_ADMIN_SECRET"], {profile.service for profile in profiles}
            )
            return await _run_on(
                seed, faults, rng, history, var, pg_port, proxy, bootstrap, document, started, profiles
            )
        finally:
            history.write(work / "history.jsonl")  # a run that breaks off leaves its history too
            await proxy.start()  # stopping needs the broker
            await asyncio.to_thread(stop_mesh, process)
            await proxy.stop()


async def _run_on(
    seed: int,
    faults: int,
    rng: random.Random,
    history: History,
    var: Path,
    pg_port: int,
    proxy: TcpProxy,
    bootstrap: str,
    document: dict[str, Any],
    started: float,
    profiles: tuple[Described, ...],
) -> Outcome:
    gateway = str(document["gateway"])
    secrets_of = {client["client_id"]: client["client_secret"] for client in document["demo_clients"]}
    services = {**document["services"], **{name: str(entry["url"]) for name, entry in read_health(var).items()}}
    timeout = httpx.Timeout(10.0, connect=3.0)
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        admin_secret = document["admin"]["client_secret"]
        admin = {"Authorization": f"Bearer {await _token(client, gateway, 'admin', admin_secret)}"}
        registries: dict[str, Driven] = {}
        holders: list[tuple[dict[str, str], str, str]] = []
        for profile in profiles:
            registrar = f"{profile.owner}-registrar"
            token = await _token(client, gateway, registrar, secrets_of[registrar])
            owner = {"Authorization": f"Bearer {token}", "X-OneSource-Purpose": OWNER_PURPOSE}
            registries[profile.name] = Driven(profile, owner)
            holders.append((owner, registrar, secrets_of[registrar]))
        grantee = await _grantee(client, gateway, admin, profiles, secrets_of)
        holders += [(headers, grantee.client_id, grantee.secret) for headers in grantee.headers.values()]
        backlog = await _projector_caught_up(var, pg_port, bootstrap, profiles)

        workload = Workload(gateway, registries, grantee, history, random.Random(rng.randrange(2**32)))
        nemesis = Nemesis(
            var, pg_port, proxy, services, history, workload, random.Random(rng.randrange(2**32)), bootstrap
        )
        feed_done = asyncio.Event()
        refresh = asyncio.create_task(_keep_tokens(client, gateway, holders))
        feeds = [asyncio.create_task(workload.follow_feed(client, driven, feed_done)) for driven in registries.values()]
        load = asyncio.create_task(workload.run(client))
        try:
            try:
                await asyncio.sleep(2.0)  # some records exist before the first fault
                await nemesis.run(faults)
                await asyncio.sleep(2.0)
            finally:
                workload.stopping.set()
                await load
            history.record("checker", "fault", "healed", outcome="ok", faults=nemesis.injected)
            sources = await _settle(var, pg_port, workload, services, bootstrap)
        finally:
            feed_done.set()
            await asyncio.gather(*feeds)
            refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresh
        # A run may outlast the tokens of its start.
        admin["Authorization"] = f"Bearer {await _token(client, gateway, 'admin', admin_secret)}"
        observed: list[Observed | ObservedLoads] = []
        for name, driven in registries.items():
            profile, grant = driven.profile, grantee.grants[name]
            delivered: list[Record] = await TopicReader(bootstrap).read(grant.topic, settle=3.0)
            for record in delivered:
                history.record(
                    f"{name}-topic", "event", "delivered", key=record.key, offset=record.offset,
                    id=(record.value or {}).get("id"),
                )  # fmt: skip
            read_keys = {
                str(op.key)
                for op in history.of("call", "read")
                if op.outcome == "ok" and op.detail.get("registry") == name and op.key is not None
            }
            audited = await _audit(client, gateway, admin, profile.resource, read_keys)
            delivery_topic = sorted(delivered, key=lambda r: (r.partition, r.offset))
            if isinstance(profile, Loads):
                vintages, latest = await _vintages(_database(var, pg_port, profile), profile)
                observed.append(
                    ObservedLoads(
                        profile=profile,
                        loads=driven.loads,
                        source=sorted(sources[name], key=lambda r: (r.topic, r.partition, r.offset)),
                        vintages=vintages,
                        latest=latest,
                        delivery_topic=delivery_topic,
                        feed=driven.feed_events,
                        audit_request_ids=audited,
                        feed_subscription=grant.feed,
                        topic_subscription=grant.topic_subscription,
                        subscribed_at=grant.subscribed_at,
                        fields=grant.fields,
                    )
                )
                continue
            keys = sorted({write.key for write in driven.writes} - driven.foreign)
            observed.append(
                Observed(
                    profile=profile,
                    writes=driven.writes,
                    foreign=driven.foreign,
                    source=sorted(sources[name], key=lambda r: (r.partition, r.offset)),
                    delivery_topic=delivery_topic,
                    feed=driven.feed_events,
                    database=await _final_rows(_database(var, pg_port, profile), profile, keys),
                    audit_request_ids=audited,
                    feed_subscription=grant.feed,
                    topic_subscription=grant.topic_subscription,
                    subscribed_at=grant.subscribed_at,
                    fields=grant.fields,
                )
            )
        verified = await client.get(f"{gateway}/api/audit/v1/verify", headers=admin, timeout=120)
        verified.raise_for_status()
    report = check(history, observed, verified.json())
    history.write(var.parent / "history.jsonl")
    (var.parent / "anomalies.txt").write_text(
        "".join(f"{a.what} ({a.registry} record {a.key}, entry {a.op})\n" for a in report.anomalies), encoding="utf-8"
    )
    killed = ", ".join(f"{name} {count}" for name, count in sorted(nemesis.registries_killed.items()))
    notes = [f"kill-registry killed: {killed or 'none'}", backlog]
    return Outcome(
        seed,
        dict(nemesis.injected),
        report,
        history,
        time.monotonic() - started,
        var.parent,
        notes,
        tuple(profile.name for profile in profiles),
    )


def _rows(report: Report) -> list[str]:
    """The counts' names, each registry's in its own order (a registry's own kinds beside the others'), then the
    run's."""
    rows: list[str] = []
    for counts in report.by_registry.values():
        at = 0
        for name in counts:
            if name not in rows:
                rows.insert(at, name)
            at = rows.index(name) + 1
    return rows + [name for name in report.counts if name not in rows]


def results_markdown(outcome: Outcome, command: str) -> str:
    """tests/faults/RESULTS.md: faults by kind, what was checked (by registry), anomalies."""
    report = outcome.report
    registries = list(report.by_registry)
    lines = [
        "# Fault suite results",
        "",
        f"Written by `{command}` (seed {outcome.seed}, {outcome.seconds:.0f} s, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}). The history of the run is in "
        "`history.jsonl` beside the run's logs; the same seed replays the same choices.",
        "",
        "| fault | injected |",
        "|---|---:|",
        *(f"| {kind} | {outcome.faults.get(kind, 0)} |" for kind in KINDS),
        f"| **total** | **{sum(outcome.faults.values())}** |",
        "",
        *(f"{note}." for note in outcome.notes),
        "",
        "| checked | " + " | ".join(registries) + " | total |",
        "|---|" + "---:|" * (len(registries) + 1),
        *(
            f"| {name} | "
            + " | ".join(str(report.by_registry[registry].get(name, "")) for registry in registries)
            + f" | {report.counts[name]} |"
            for name in _rows(report)
        ),
        "",
        f"**Anomalies: {len(report.anomalies)}**",
        "",
    ]
    for anomaly in report.anomalies[:50]:
        lines.append(f"- {anomaly.what} ({anomaly.registry} record {anomaly.key}, entry {anomaly.op})")
    return "\n".join(lines) + "\n"
