"""The workload: registrars writing the records of each driven registry through the gateway (or loading vintages of a
dataflow), a department reading them under its grants and following its subscriptions on the HTTP feed; every call
recorded with its outcome."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from onesource.macroeconomy.dataflows.definitions import DATAFLOWS
from tests.faults.history import History
from tests.faults.registries import MAX_WRITES, Described, Lifecycle, Loads, Move, Profile, new_marker, representative

#: SDMX-CSV 2.0 (SDMX 3.0 section 6).
SDMX_CSV = "application/vnd.sdmx.data+csv; version=2.0.0"


def outcome_of(result: httpx.Response | BaseException) -> str:
    """What a caller can know of a call's effect from what came back."""
    if isinstance(result, httpx.ConnectError | httpx.ConnectTimeout):
        return "failed"  # never reached the gateway
    if isinstance(result, BaseException):
        return "unknown"  # sent; the answer was lost (a killed process, a timeout)
    if result.is_success:
        return "ok"
    if result.status_code >= 500:
        return "unknown"  # the gateway cannot know whether the registry committed before it went away
    return "refused"


def _problem(response: httpx.Response) -> str | None:
    try:
        problem = response.json()
    except ValueError:
        return None
    return str(problem.get("type")) if isinstance(problem, dict) else None


def version_of(response: httpx.Response) -> int:
    """The version a write's answer names: its ``ETag``, or (a registration answered as a GeoJSON Feature, which
    geo sends without one) its ``properties.version``."""
    if "etag" in response.headers:
        return int(response.headers["etag"].strip('W/"'))
    return int(response.json()["properties"]["version"])


@dataclass
class Write:
    """One write call as the checker needs it: which record, what it set, on which version."""

    op: int
    """Its index in the history."""
    registry: str
    key: str
    sequence: int
    """Its place among the writes to its record (one writer per record: they are made in this order)."""
    kind: str
    """The event verb it would cause (``registered``, ``updated``, ``deceased``, ``status-changed`` …)."""
    marker: str
    """A value unique to this write (an address, a reason, a date of death), so its event names it."""
    version: int
    """The version it creates if it commits."""
    sets: dict[str, Any] = field(default_factory=dict)
    """What the record's row holds after it, of the columns the checker compares."""
    outcome: str = "unknown"


@dataclass
class LoadCall:
    """One load as the checker needs it: what it held, and the vintage it made if that is known."""

    op: int
    registry: str
    request_id: str
    """Its ``X-Request-Id``: the registry keeps it with the vintage, so the checker finds what a load made."""
    observations: dict[tuple[str, str], float]
    """(series key, period) → value."""
    valid: bool
    """Whether every row is valid (an invalid load must be refused whole)."""
    outcome: str = "unknown"
    vintage: int | None = None
    """The vintage its answer named (an acknowledged load)."""


def sdmx_csv(loads: Loads, observations: dict[tuple[str, str], float], *, valid: bool) -> bytes:
    """An SDMX-CSV 2.0 load of ``observations`` into ``loads.flow``; when not ``valid``, its last value is no
    number, so the registry must refuse all of it."""
    flow = DATAFLOWS[loads.flow]
    dimensions = [dimension.id for dimension in flow.structure.dimensions]
    output = io.StringIO(newline="")
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(
        ["STRUCTURE", "STRUCTURE_ID", "ACTION", *dimensions, "TIME_PERIOD", "OBS_VALUE", "OBS_STATUS",
         "UNIT_MEASURE", "UNIT_MULT", "DECIMALS"]
    )  # fmt: skip
    rows = list(observations.items())
    for n, ((series, period), value) in enumerate(rows, start=1):
        shown = "不是数值" if not valid and n == len(rows) else repr(value)
        writer.writerow(["dataflow", flow.structure_id, "I", *series.split("."), period, shown, "", "CNY", "8", "2"])
    return output.getvalue().encode()


@dataclass
class Grant:
    """The reading department's grant on one registry's resource and its two subscriptions to it."""

    grant_id: str
    fields: frozenset[str]
    feed: str
    """The feed subscription's id."""
    topic_subscription: str
    topic: str
    """Its Kafka delivery topic."""
    subscribed_at: datetime


@dataclass
class Grantee:
    """The reading department: its consumer's headers and, per registry, its grant and subscriptions."""

    client_id: str
    headers: dict[str, dict[str, str]]
    """Per registry: the bearer token and the grant's purpose."""
    grants: dict[str, Grant]
    secret: str = ""
    """Its consumer's client secret (a run outlasts a token)."""


@dataclass
class Driven:
    """What the workload knows of one registry it drives."""

    profile: Described
    owner: dict[str, str]
    """Headers of the owning registrar (with the registry-maintenance purpose)."""
    writes: list[Write] = field(default_factory=list)
    committed: list[str] = field(default_factory=list)
    """Records known to exist (a read may name them)."""
    foreign: set[str] = field(default_factory=set)
    """Keys the mesh held before this run (a generated key that the registry has already)."""
    inflight_writes: int = 0
    feed_events: list[dict[str, Any]] = field(default_factory=list)
    loads: list[LoadCall] = field(default_factory=list)
    """Of a registry written by loads (:class:`Loads`), its loads."""


@dataclass
class Workload:
    gateway: str
    registries: dict[str, Driven]
    grantee: Grantee
    history: History
    rng: random.Random
    living: list[str] = field(default_factory=list)
    """Adults the workload registered and left alive, done with: legal representatives for entities."""
    inflight_reads: int = 0
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def inflight_writes(self) -> int:
        return sum(driven.inflight_writes for driven in self.registries.values())

    @property
    def writes(self) -> list[Write]:
        return [write for driven in self.registries.values() for write in driven.writes]

    async def run(self, client: httpx.AsyncClient) -> None:
        """Write and read until :attr:`stopping` is set; the feed readers go on until :meth:`follow_feed` ends."""
        tasks = []
        for driven in self.registries.values():
            profile = driven.profile
            for n in range(profile.writers):
                # Each writer's generator drawn in a fixed order: the same seed makes the same records.
                rng = random.Random(self.rng.randrange(2**32))
                if isinstance(profile, Loads):
                    tasks.append(asyncio.create_task(self._loader(client, driven, profile, n, rng)))
                else:
                    tasks.append(asyncio.create_task(self._writer(client, driven, profile, n, rng)))
            tasks += [asyncio.create_task(self._reader(client, driven, n)) for n in range(profile.readers)]
        await asyncio.gather(*tasks)

    # --- writes -------------------------------------------------------------------------------------------------

    async def _call(
        self, client: httpx.AsyncClient, driven: Driven, method: str, path: str, **kwargs: Any
    ) -> tuple[str, httpx.Response | None, float]:
        at = self.history.now()
        driven.inflight_writes += 1
        try:
            result: httpx.Response | BaseException = await client.request(method, f"{self.gateway}{path}", **kwargs)
        except httpx.HTTPError as error:
            result = error
        finally:
            driven.inflight_writes -= 1
        response = result if isinstance(result, httpx.Response) else None
        return outcome_of(result), response, at

    async def _writer(
        self, client: httpx.AsyncClient, driven: Driven, profile: Profile, n: int, rng: random.Random
    ) -> None:
        process = f"{profile.name}-writer-{n}"
        make = profile.records(rng)
        while not self.stopping.is_set():
            record = make(self.living)
            if record is None:
                await asyncio.sleep(0.1)
                continue
            if await self._lifecycle(client, driven, profile, process, record, rng) and profile.gives_representatives:
                if representative(record.key):
                    self.living.append(record.key)

    async def _lifecycle(
        self,
        client: httpx.AsyncClient,
        driven: Driven,
        profile: Profile,
        process: str,
        record: Lifecycle,
        rng: random.Random,
    ) -> bool:
        """Register ``record``, update it a few times, then make its lifecycle calls; whether it is done and alive
        (its last call known to have taken effect, none of them final)."""
        key = record.key
        sequence = 0
        version = 0  # the version the record is known to have (0: not registered)
        updates = rng.randint(1, 5)
        step = 0  # lifecycle calls known to have taken effect
        while not self.stopping.is_set():
            sequence += 1
            marker = new_marker()
            if version == 0:
                move: Move | None = record.register(marker)
            elif updates > 0:
                move = record.update(marker, rng)
            else:
                move = record.transition(step, sequence)
            if move is None:
                return version > 0
            if sequence > MAX_WRITES:
                return False  # a record whose writes keep being refused (a bug the checker will name) holds no writer
            headers = {} if move.kind == "registered" else {"If-Match": f'"{version}"'}
            write = Write(
                len(self.history.ops), profile.name, key, sequence, move.kind, move.marker, version + 1, move.sets
            )
            outcome, response, at = await self._call(
                client, driven, move.method, move.path, json=move.body, headers={**driven.owner, **headers}
            )
            write.op = self.history.record(
                process, "call", move.kind, key=key, outcome=outcome, at=at, registry=profile.name,
                sequence=sequence, marker=move.marker, version=version + 1,
                status=response.status_code if response is not None else None,
                took=round(self.history.now() - at, 3),
                problem=_problem(response) if response is not None and not response.is_success else None,
            ).index  # fmt: skip
            write.outcome = outcome
            driven.writes.append(write)
            if outcome == "ok":
                assert response is not None
                version = version_of(response)
                took = True
            elif move.kind == "registered" and sequence == 1 and response is not None and response.status_code == 409:
                driven.foreign.add(key)  # already in the registry before this run: not ours to check
                return False
            else:
                # Unknown, failed or refused: learn the record's state before going on (a killed registry may
                # have committed the write, or not).
                found = await self._sync(client, driven, profile, process, key)
                if found is None:
                    return False  # the run is stopping
                version = found
                took = outcome != "failed" and version == write.version
                if version and key not in driven.committed:
                    driven.committed.append(key)
            if took:
                if move.kind == "registered":
                    if key not in driven.committed:
                        driven.committed.append(key)
                elif move.kind == "updated":
                    updates -= 1
                else:
                    step += 1
                if move.final:
                    return False
            await asyncio.sleep(rng.uniform(0.0, 0.05))
        return False

    async def _sync(
        self, client: httpx.AsyncClient, driven: Driven, profile: Profile, process: str, key: str
    ) -> int | None:
        """The record's current version (0 when it does not exist), read by its owner until an answer comes."""
        path = f"{self.gateway}{profile.record_path(key)}"
        while not self.stopping.is_set():
            at = self.history.now()
            try:
                response = await client.get(path, headers=driven.owner)
            except httpx.HTTPError as error:
                self.history.record(process, "call", "sync-read", key=key, outcome=outcome_of(error), at=at)
                await asyncio.sleep(0.3)
                continue
            outcome = outcome_of(response)
            if response.status_code == 200:
                version = int(response.headers["etag"].strip('W/"'))
                self.history.record(process, "call", "sync-read", key=key, outcome=outcome, at=at, version=version)
                return version
            if response.status_code == 404:
                self.history.record(process, "call", "sync-read", key=key, outcome="ok", at=at, version=0)
                return 0
            self.history.record(
                process, "call", "sync-read", key=key, outcome=outcome, at=at, status=response.status_code
            )
            await asyncio.sleep(0.3)
        return None

    # --- loads -------------------------------------------------------------------------------------------------

    async def _loader(
        self, client: httpx.AsyncClient, driven: Driven, loads: Loads, n: int, rng: random.Random
    ) -> None:
        """Load vintages until the run stops: a few observations each, the values of earlier loads revised or not,
        now and then an invalid one. A load is never repeated: its outcome is the checker's to learn (from the
        vintage its request id made, or none)."""
        process = f"{loads.name}-writer-{n}"
        cells = [(".".join(series), period) for series in loads.series for period in loads.periods]
        while not self.stopping.is_set():
            chosen = rng.sample(cells, rng.randint(1, 6))
            # Values from a short list: a later load often gives a cell the value it has (not a revision).
            observations = {cell: rng.choice((1000.5, 2000.25, 3000.75)) for cell in chosen}
            valid = rng.random() >= 0.15
            request_id = uuid.uuid4().hex
            headers = {**driven.owner, "Content-Type": SDMX_CSV, "X-Request-Id": request_id}
            body = sdmx_csv(loads, observations, valid=valid)
            outcome, response, at = await self._call(
                client, driven, "POST", loads.load_path(), content=body, headers=headers
            )
            vintage = int(response.json()["vintage"]) if outcome == "ok" and response is not None else None
            op = self.history.record(
                process, "call", "load", key=loads.flow, outcome=outcome, at=at, registry=loads.name,
                request_id=request_id, vintage=vintage, valid=valid, observations=len(observations),
                status=response.status_code if response is not None else None,
                took=round(self.history.now() - at, 3),
                problem=_problem(response) if response is not None and not response.is_success else None,
            )  # fmt: skip
            driven.loads.append(LoadCall(op.index, loads.name, request_id, observations, valid, outcome, vintage))
            # After an outage a pause, as the record writers take one to learn their record's state.
            await asyncio.sleep(0.3 if outcome in ("failed", "unknown") else rng.uniform(0.05, 0.2))

    # --- reads under the grant ----------------------------------------------------------------------------------

    async def _reader(self, client: httpx.AsyncClient, driven: Driven, n: int) -> None:
        """Read a record the workload knows to exist (or, of a registry written by loads, a page of the dataflow's
        release calendar, the newest first) under the grant."""
        profile = driven.profile
        process = f"{profile.name}-reader-{n}"
        headers = self.grantee.headers[profile.name]
        while not self.stopping.is_set():
            key: str | None = None
            params: dict[str, str | int]
            if isinstance(profile, Loads):
                path, params = profile.collection, {"flow": profile.flow, "limit": 5}
            elif driven.committed:
                key = self.rng.choice(driven.committed)
                path, params = profile.record_path(key), {}
            else:
                await asyncio.sleep(0.1)
                continue
            request_id = uuid.uuid4().hex
            at = self.history.now()
            self.inflight_reads += 1
            try:
                result: httpx.Response | BaseException = await client.get(
                    f"{self.gateway}{path}", params=params, headers={**headers, "X-Request-Id": request_id}
                )
            except httpx.HTTPError as error:
                result = error
            finally:
                self.inflight_reads -= 1
            outcome = outcome_of(result)
            detail: dict[str, Any] = {"registry": profile.name, "request_id": request_id}
            if isinstance(result, httpx.Response):
                detail["status"] = result.status_code
                if result.status_code == 200:
                    detail["answer"] = result.json()
                    items = detail["answer"].get("items") if isinstance(profile, Loads) else None
                    if items:  # its audit entry is found under any record it answered
                        key = str(self.rng.choice(items).get(profile.key))
            self.history.record(process, "call", "read", key=key, outcome=outcome, at=at, **detail)
            await asyncio.sleep(self.rng.uniform(0.02, 0.1))

    # --- the subscriptions' HTTP feeds --------------------------------------------------------------------------

    async def follow_feed(self, client: httpx.AsyncClient, driven: Driven, done: asyncio.Event) -> None:
        """Read a registry's feed from its start until ``done`` is set, recording each event and each failed poll."""
        name = driven.profile.name
        process = f"{name}-feed"
        headers = self.grantee.headers[name]
        feed = self.grantee.grants[name].feed
        cursor: str | None = None
        while not done.is_set():
            at = self.history.now()
            params: dict[str, Any] = {"limit": 200, "wait": 1}
            if cursor is not None:
                params["after"] = cursor
            try:
                response = await client.get(
                    f"{self.gateway}/api/exchange/v1/subscriptions/{feed}/events", params=params, headers=headers
                )
            except httpx.HTTPError as error:
                self.history.record(process, "call", "feed-poll", outcome=outcome_of(error), at=at, error=repr(error))
                await asyncio.sleep(0.3)
                continue
            if response.status_code != 200:
                self.history.record(
                    process, "call", "feed-poll", outcome=outcome_of(response), at=at, status=response.status_code
                )
                await asyncio.sleep(0.3)
                continue
            page = response.json()
            for event in page["items"]:
                driven.feed_events.append(event)
                self.history.record(
                    process, "event", "delivered", key=event.get("subject"), id=event["id"], data=event.get("data")
                )
            cursor = page["next_cursor"]
