from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from onesource.gateway.audit import chain
from onesource.gateway.audit.entry import AuditEntry
from onesource.gateway.audit.verification import verify_chain

from .conftest import Scratch, audit_entry

texts = st.text(max_size=40)  # includes NUL and lone surrogates, which PostgreSQL or UTF-8 cannot hold
entries = st.builds(
    AuditEntry,
    time=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from([UTC, None])
    ),
    request_id=texts,
    client_id=st.none() | texts,
    department=st.none() | texts,
    purpose=st.none() | texts,
    method=st.sampled_from(["GET", "POST", "PATCH"]),
    path=texts,
    status=st.integers(100, 599),
    latency_ms=st.floats(0, 1e6),
    request_hash=texts,
    resources=st.lists(texts, max_size=3),
    grant_ids=st.lists(texts, max_size=3),
    record_keys=st.lists(texts, max_size=5),
    fields=st.lists(texts, max_size=5),
)


def test_the_serialisation_is_the_documented_one() -> None:
    entry = audit_entry(
        time=datetime(2025, 3, 1, 8, 0, 0, 5, tzinfo=timezone(timedelta(hours=8))),
        request_id="r1",
        latency_ms=1.2345,
        fields=("name",),
    )
    body = chain.canonical(chain.body_of_entry(entry))
    assert body == (
        '{"client_id":"civil-affairs-app","department":"civil-affairs","fields":["name"],"grant_ids":["g-1"],'
        '"latency_us":1234,"method":"GET","path":"/api/population/v1/persons/11010519491231002X",'
        '"purpose":"最低生活保障资格审核","record_keys":["11010519491231002X"],"request_hash":"' + "ab" * 32 + '",'
        '"request_id":"r1","resources":["population.person"],"status":200,"time":"2025-03-01T00:00:00.000005Z"}'
    )
    expected = hashlib.sha256(f"onesource-audit/v1\n{'0' * 64}\n1\n{body}".encode()).hexdigest()
    assert chain.entry_hash(1, chain.GENESIS_HASH, body) == expected


async def test_any_entry_is_stored_and_verifies(scratch: Scratch) -> None:
    generated: list[AuditEntry] = []

    @settings(max_examples=300, database=None, deadline=None)
    @given(entries)
    def collect(entry: AuditEntry) -> None:
        generated.append(entry)

    collect()
    log = await scratch.writer()
    await asyncio.gather(*(log.record(entry) for entry in generated))
    async with scratch.engine.connect() as connection:
        report = await verify_chain(connection)
    assert report.ok, report.problems
    assert report.entries == len(generated)


async def test_text_postgresql_cannot_hold_is_replaced_not_fatal(scratch: Scratch) -> None:
    # One such value must not fail the whole batch it is committed with.
    log = await scratch.writer()
    odd = audit_entry(record_keys=("a\x00b",), path="/api/x/\udcff")
    await asyncio.gather(log.record(odd), log.record(audit_entry()))
    stored = await scratch.scalar(
        "SELECT record_keys[1] || path FROM audit_entry WHERE request_id = :id", id=odd.request_id
    )
    assert stored == "a\ufffdb/api/x/?"
    async with scratch.engine.connect() as connection:
        assert (await verify_chain(connection)).ok
