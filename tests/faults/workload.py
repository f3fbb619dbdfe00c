"""The workload: registrars writing persons through the gateway, a department reading them under its grant and
following its subscription on the HTTP feed; every call recorded with its outcome."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from onesource.population.demo import PersonFactory
from tests.faults.history import History

PERSONS = "/api/population/v1/persons"
#: Names a registrar renames persons to (each update sets a granted field, so the subscription delivers it).
#: Writes to one record at most (each rename keeps the old name among at most ten former names).
MAX_WRITES = 9
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


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


@dataclass
class Write:
    """One write call as the checker needs it: which record, what it set, on which version."""

    op: int
    """Its index in the history."""
    key: str
    sequence: int
    """Its place among the writes to its record (one writer per record: they are made in this order)."""
    kind: str
    """``registered``, ``updated`` or ``deceased`` (the event type it would cause)."""
    marker: str
    """The household address it sets: unique to this write, so its event names it."""
    version: int
    """The version it creates if it commits."""
    outcome: str = "unknown"


@dataclass
class Grantee:
    """The reading department: its consumer's headers, its grant and its subscriptions."""

    client_id: str
    headers: dict[str, str]
    fields: frozenset[str]
    grant_id: str
    feed: str
    """The feed subscription's id."""
    topic_subscription: str
    topic: str
    """Its Kafka delivery topic."""
    secret: str = ""
    """Its consumer's client secret (a run outlasts a token)."""


@dataclass
class Workload:
    gateway: str
    owner: dict[str, str]
    """Headers of the owning registrar (with the registry-maintenance purpose)."""
    grantee: Grantee
    history: History
    rng: random.Random
    writers: int = 3
    readers: int = 2
    writes: list[Write] = field(default_factory=list)
    committed: list[str] = field(default_factory=list)
    """Records known to exist (a read may name them)."""
    foreign: set[str] = field(default_factory=set)
    """Keys the mesh held before this run (a generated ID number that the demo data has already)."""
    inflight_writes: int = 0
    inflight_reads: int = 0
    feed_events: list[dict[str, Any]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, client: httpx.AsyncClient) -> None:
        """Write and read until :attr:`stopping` is set; the feed reader goes on until :meth:`drain_feed`."""
        factory = PersonFactory(seed=self.rng.randrange(2**32))
        tasks = [asyncio.create_task(self._writer(client, n, factory)) for n in range(self.writers)]
        tasks += [asyncio.create_task(self._reader(client, n)) for n in range(self.readers)]
        await asyncio.gather(*tasks)

    # --- writes -------------------------------------------------------------------------------------------------

    async def _call(
        self, client: httpx.AsyncClient, process: str, name: str, key: str, method: str, path: str, **kwargs: Any
    ) -> tuple[str, httpx.Response | None, float]:
        at = self.history.now()
        self.inflight_writes += 1
        try:
            result: httpx.Response | BaseException = await client.request(method, f"{self.gateway}{path}", **kwargs)
        except httpx.HTTPError as error:
            result = error
        finally:
            self.inflight_writes -= 1
        response = result if isinstance(result, httpx.Response) else None
        return outcome_of(result), response, at

    async def _writer(self, client: httpx.AsyncClient, n: int, factory: PersonFactory) -> None:
        process = f"writer-{n}"
        while not self.stopping.is_set():
            person = factory.person()
            person.pop("death_date", None)
            await self._lifecycle(client, process, person)

    async def _lifecycle(self, client: httpx.AsyncClient, process: str, person: dict[str, Any]) -> None:
        key = str(person["id_number"])
        sequence = 0
        version = 0  # the version the record is known to have (0: not registered)
        updates = self.rng.randint(1, 5)
        while not self.stopping.is_set():
            sequence += 1
            marker = f"故障测试路{uuid.uuid4().hex[:12]}号"
            if version == 0:
                kind, method, path, body, headers = (
                    "registered",
                    "POST",
                    PERSONS,
                    {**person, "household_address": marker},
                    {},
                )
            elif updates > 0:
                name = person["name"][0] + self.rng.choice(GIVEN) + self.rng.choice(GIVEN)
                kind, method, path = "updated", "PATCH", f"{PERSONS}/{key}"
                body, headers = {"name": name, "household_address": marker}, {"If-Match": f'"{version}"'}
            elif self.rng.random() < 0.4:
                kind, method, path = "deceased", "POST", f"{PERSONS}/{key}/death"
                # A death sets no address: its date, unique among the record's death calls, names its event.
                marker = (date(2025, 1, 1) + timedelta(days=sequence)).isoformat()
                body, headers = {"death_date": marker}, {"If-Match": f'"{version}"'}
            else:
                return
            if sequence > MAX_WRITES:
                return  # a record whose writes keep being refused (a bug the checker will name) holds no writer up
            write = Write(len(self.history.ops), key, sequence, kind, marker, version + 1)
            outcome, response, at = await self._call(
                client, process, kind, key, method, path, json=body, headers={**self.owner, **headers}
            )
            write.op = self.history.record(
                process, "call", kind, key=key, outcome=outcome, at=at, sequence=sequence, marker=marker,
                version=version + 1, status=response.status_code if response is not None else None,
                took=round(self.history.now() - at, 3),
                problem=response.json().get("type") if response is not None and not response.is_success else None,
            ).index  # fmt: skip
            write.outcome = outcome
            self.writes.append(write)
            if outcome == "ok":
                assert response is not None
                version = int(response.headers["etag"].strip('W/"'))
                if kind == "registered":
                    self.committed.append(key)
                elif kind == "updated":
                    updates -= 1
                else:
                    return
            elif kind == "registered" and outcome == "refused" and sequence == 1:
                self.foreign.add(key)  # already in the registry before this run: not ours to check
                return
            else:
                # Unknown, failed or refused: learn the record's state before going on (a killed registry may
                # have committed the write, or not).
                found = await self._sync(client, process, key)
                if found is None:
                    return  # the run is stopping
                version = found
                if version and key not in self.committed:
                    self.committed.append(key)
                if kind == "deceased" and outcome != "failed" and version == write.version:
                    return
            await asyncio.sleep(self.rng.uniform(0.0, 0.05))

    async def _sync(self, client: httpx.AsyncClient, process: str, key: str) -> int | None:
        """The record's current version (0 when it does not exist), read by its owner until an answer comes."""
        while not self.stopping.is_set():
            at = self.history.now()
            try:
                response = await client.get(f"{self.gateway}{PERSONS}/{key}", headers=self.owner)
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

    # --- reads under the grant ----------------------------------------------------------------------------------

    async def _reader(self, client: httpx.AsyncClient, n: int) -> None:
        process = f"reader-{n}"
        while not self.stopping.is_set():
            if not self.committed:
                await asyncio.sleep(0.1)
                continue
            key = self.rng.choice(self.committed)
            request_id = uuid.uuid4().hex
            at = self.history.now()
            self.inflight_reads += 1
            try:
                result: httpx.Response | BaseException = await client.get(
                    f"{self.gateway}{PERSONS}/{key}", headers={**self.grantee.headers, "X-Request-Id": request_id}
                )
            except httpx.HTTPError as error:
                result = error
            finally:
                self.inflight_reads -= 1
            outcome = outcome_of(result)
            detail: dict[str, Any] = {"request_id": request_id}
            if isinstance(result, httpx.Response):
                detail["status"] = result.status_code
                if result.status_code == 200:
                    detail["answer"] = result.json()
            self.history.record(process, "call", "read", key=key, outcome=outcome, at=at, **detail)
            await asyncio.sleep(self.rng.uniform(0.02, 0.1))

    # --- the subscription's HTTP feed ---------------------------------------------------------------------------

    async def follow_feed(self, client: httpx.AsyncClient, done: asyncio.Event) -> None:
        """Read the feed from its start until ``done`` is set, recording each event and each failed poll."""
        cursor: str | None = None
        while not done.is_set():
            at = self.history.now()
            params: dict[str, Any] = {"limit": 200, "wait": 1}
            if cursor is not None:
                params["after"] = cursor
            try:
                response = await client.get(
                    f"{self.gateway}/api/exchange/v1/subscriptions/{self.grantee.feed}/events",
                    params=params,
                    headers=self.grantee.headers,
                )
            except httpx.HTTPError as error:
                self.history.record("feed", "call", "feed-poll", outcome=outcome_of(error), at=at, error=repr(error))
                await asyncio.sleep(0.3)
                continue
            if response.status_code != 200:
                self.history.record(
                    "feed", "call", "feed-poll", outcome=outcome_of(response), at=at, status=response.status_code
                )
                await asyncio.sleep(0.3)
                continue
            page = response.json()
            for event in page["items"]:
                self.feed_events.append(event)
                self.history.record(
                    "feed", "event", "delivered", key=event.get("subject"), id=event["id"], data=event.get("data")
                )
            cursor = page["next_cursor"]
