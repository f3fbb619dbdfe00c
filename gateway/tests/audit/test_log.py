from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from onesource.gateway.audit.errors import AuditUnavailable
from onesource.gateway.audit.verification import verify_chain

from .conftest import Scratch, audit_entry


async def writer_waits_for_the_head(scratch: Scratch) -> None:
    """Return once a writer's transaction is blocked on the head row lock."""
    for _ in range(200):
        waiting = await scratch.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'audit-test-writer' "
            "AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the writer never waited for the head")


async def test_concurrent_records_extend_the_chain_gap_free_in_few_transactions(scratch: Scratch) -> None:
    log = await scratch.writer()
    entries = [audit_entry(record_keys=(f"key-{n}",)) for n in range(500)]

    await asyncio.gather(*(log.record(entry) for entry in entries))

    assert await scratch.head() == (500, await scratch.scalar("SELECT hash FROM audit_entry WHERE seq = 500"))
    seqs = await scratch.scalar("SELECT array_agg(seq ORDER BY seq) FROM audit_entry")
    assert seqs == list(range(1, 501))
    assert log.entries_committed == 500
    assert log.batches_committed < 500 / 10  # grouped: at most 200 per transaction, and they pile up while waiting
    stored = await scratch.scalar("SELECT array_agg(request_id ORDER BY seq) FROM audit_entry")
    assert sorted(stored) == sorted(entry.request_id for entry in entries)
    async with scratch.engine.connect() as connection:
        report = await verify_chain(connection)
    assert report.ok, report.problems
    assert report.entries == 500


async def test_each_record_returns_only_once_its_entry_is_committed(scratch: Scratch) -> None:
    log = await scratch.writer()
    entry = audit_entry()
    async with scratch.engine.connect() as blocker:
        # Another gateway's batch holds the head: this writer cannot commit until it lets go.
        await blocker.execute(text("SELECT seq FROM audit_head FOR UPDATE"))
        recording = asyncio.create_task(log.record(entry))
        await writer_waits_for_the_head(scratch)
        await asyncio.sleep(0.1)
        assert not recording.done()
        assert await scratch.scalar("SELECT count(*) FROM audit_entry") == 0
        await blocker.rollback()
    await recording
    # Visible from any other connection the moment record() returned.
    assert await scratch.scalar("SELECT request_id FROM audit_entry WHERE seq = 1") == entry.request_id


async def test_every_waiter_sees_its_own_entry_committed_when_it_returns(scratch: Scratch) -> None:
    log = await scratch.writer()
    readers = scratch.new_engine(pool_size=20, application_name="audit-test-reader")

    async def record_and_look(n: int) -> int:
        entry = audit_entry(record_keys=(f"look-{n}",))
        await log.record(entry)
        async with readers.connect() as connection:
            found = await connection.execute(
                text("SELECT count(*) FROM audit_entry WHERE request_id = :id"), {"id": entry.request_id}
            )
            return int(found.scalar_one())

    assert await asyncio.gather(*(record_and_look(n) for n in range(20))) == [1] * 20


async def test_a_failing_commit_fails_every_waiter_of_its_batch_and_writes_nothing(scratch: Scratch) -> None:
    log = await scratch.writer()
    await log.record(audit_entry())
    before = await scratch.head()
    # A deferred constraint trigger fails the transaction at COMMIT, after the insert itself succeeded.
    async with scratch.engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE FUNCTION test_refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.request_id = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NULL; END $$"
            )
        )
        await connection.execute(
            text(
                "CREATE CONSTRAINT TRIGGER test_poison AFTER INSERT ON audit_entry DEFERRABLE INITIALLY DEFERRED "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_poison()"
            )
        )
    try:
        batch = [audit_entry() for _ in range(10)] + [audit_entry(request_id="poison")]
        outcomes = await asyncio.gather(*(log.record(entry) for entry in batch), return_exceptions=True)
        assert all(isinstance(outcome, AuditUnavailable) for outcome in outcomes), outcomes
        assert all(outcome.status == 503 for outcome in outcomes if isinstance(outcome, AuditUnavailable))
        assert await scratch.head() == before
        assert await scratch.scalar("SELECT count(*) FROM audit_entry") == 1
    finally:
        async with scratch.engine.begin() as connection:
            await connection.execute(text("DROP TRIGGER test_poison ON audit_entry"))
            await connection.execute(text("DROP FUNCTION test_refuse_poison()"))
    # The writer carries on, and the chain has no hole where the failed batch was.
    await log.record(audit_entry())
    assert (await scratch.head())[0] == 2
    async with scratch.engine.connect() as connection:
        assert (await verify_chain(connection)).ok


async def test_an_unreachable_database_fails_closed(scratch: Scratch) -> None:
    from onesource.kit.db import create_engine
    from onesource.kit.embedded import find_free_port

    nowhere = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{find_free_port()}/nowhere", pool_size=1)
    scratch.engines.append(nowhere)
    log = await scratch.writer(engine=nowhere, commit_timeout_seconds=2)
    with pytest.raises(AuditUnavailable):
        await log.record(audit_entry())


async def test_the_writer_reconnects_when_its_connection_was_killed(scratch: Scratch) -> None:
    log = await scratch.writer()
    await log.record(audit_entry())
    killed = await scratch.scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = 'audit-test-writer'"
    )
    assert killed >= 1
    await log.record(audit_entry())
    assert (await scratch.head())[0] == 2


async def test_a_full_queue_fails_fast(scratch: Scratch) -> None:
    log = await scratch.writer(queue_size=1)
    async with scratch.engine.connect() as blocker:
        await blocker.execute(text("SELECT seq FROM audit_head FOR UPDATE"))
        first = asyncio.create_task(log.record(audit_entry()))
        await writer_waits_for_the_head(scratch)  # it took the first entry off the queue
        second = asyncio.create_task(log.record(audit_entry()))
        await asyncio.sleep(0)
        with pytest.raises(AuditUnavailable, match="saturated"):
            await log.record(audit_entry())
        await blocker.rollback()
    await asyncio.gather(first, second)
    assert (await scratch.head())[0] == 2


async def test_two_writers_extend_one_chain_without_gaps_or_forks(scratch: Scratch) -> None:
    one, two = await scratch.writer(), await scratch.writer()
    await asyncio.gather(
        *(one.record(audit_entry(client_id="one")) for _ in range(200)),
        *(two.record(audit_entry(client_id="two")) for _ in range(200)),
    )
    assert await scratch.scalar("SELECT array_agg(seq ORDER BY seq) FROM audit_entry") == list(range(1, 401))
    assert one.entries_committed == two.entries_committed == 200
    async with scratch.engine.connect() as connection:
        report = await verify_chain(connection)
    assert report.ok, report.problems
    assert report.head_seq == 400


async def test_a_writer_whose_known_head_went_stale_appends_after_the_other(scratch: Scratch) -> None:
    """The fast path (append if the head is where this writer left it) never forks the chain."""
    one, two = await scratch.writer(), await scratch.writer()
    for writer in (one, two, one, one, two, one):
        await writer.record(audit_entry())
    assert await scratch.scalar("SELECT array_agg(seq ORDER BY seq) FROM audit_entry") == list(range(1, 7))
    async with scratch.engine.connect() as connection:
        report = await verify_chain(connection)
    assert report.ok, report.problems


async def test_stopping_commits_what_waits_then_refuses(scratch: Scratch) -> None:
    log = await scratch.writer()
    waiting = [asyncio.create_task(log.record(audit_entry())) for _ in range(50)]
    await asyncio.sleep(0)
    await log.stop()
    await asyncio.gather(*waiting)
    assert (await scratch.head())[0] == 50
    with pytest.raises(AuditUnavailable, match="not running"):
        await log.record(audit_entry())


async def test_the_audit_log_is_append_only(scratch: Scratch) -> None:
    from sqlalchemy.exc import DBAPIError

    log = await scratch.writer()
    await log.record(audit_entry())
    for statement in (
        "UPDATE audit_entry SET status = 500",
        "DELETE FROM audit_entry",
        "TRUNCATE audit_entry",
        "UPDATE audit_head SET seq = 0",
        "DELETE FROM audit_head",
    ):
        with pytest.raises(DBAPIError, match=r"append-only|only move forward"):
            async with scratch.engine.begin() as connection:
                await connection.execute(text(statement))
    assert (await scratch.head())[0] == 1
