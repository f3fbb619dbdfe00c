from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.audit import chain, service, signing
from onesource.gateway.audit.log import AuditLog
from onesource.gateway.audit.verification import ChainReport, verify_chain, verify_database
from onesource.gateway.keys import crypto

from .conftest import Scratch, as_attacker, audit_entry


async def record(log: AuditLog, count: int) -> None:
    for start in range(0, count, 10):  # several batches, so the chain spans several transactions
        await asyncio.gather(*(log.record(audit_entry(record_keys=(f"k{n}",))) for n in range(start, start + 10)))


async def chain_of(scratch: Scratch, *, checkpoints_at: tuple[int, ...] = (30,), length: int = 50) -> AuditLog:
    """A chain of ``length`` entries with signed checkpoints at the given heads."""
    log = await scratch.writer()
    written = 0
    for target in sorted({*checkpoints_at, length}):
        await record(log, target - written)
        written = target
        if target in checkpoints_at:
            assert await log.checkpoint() == target
    return log


async def verify(scratch: Scratch, *, batch_size: int = 7) -> ChainReport:
    # A small batch size makes the checks cross page boundaries.
    async with scratch.engine.connect() as connection:
        return await verify_chain(connection, batch_size=batch_size)


def kinds(report: ChainReport) -> list[tuple[int | None, str]]:
    return [(problem.seq, problem.kind) for problem in report.problems]


async def rewrite_from(scratch: Scratch, first: int, *, move_head: bool = True) -> str:
    """Change every entry from ``first`` on and recompute all their hashes, as a forger would; the new head hash."""
    async with scratch.engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT * FROM audit_entry WHERE seq >= :first ORDER BY seq"), {"first": first}
            )
        ).all()
    prev_hash = rows[0].prev_hash
    for row in rows:
        body = chain.body_of_row(row._asdict())
        body["purpose"] = "forged"
        new_hash = chain.entry_hash(row.seq, prev_hash, chain.canonical(body))
        await as_attacker(
            scratch.engine,
            "UPDATE audit_entry SET purpose = 'forged', prev_hash = :prev, hash = :hash WHERE seq = :seq",
            prev=prev_hash,
            hash=new_hash,
            seq=row.seq,
        )
        prev_hash = new_hash
    if move_head:
        await as_attacker(scratch.engine, "UPDATE audit_head SET hash = :hash", hash=prev_hash)
    return prev_hash


async def test_an_untouched_chain_verifies(scratch: Scratch) -> None:
    await chain_of(scratch, checkpoints_at=(10, 30, 50))
    report = await verify(scratch)
    assert report.ok, report.problems
    assert (report.entries, report.head_seq, report.checkpoints) == (50, 50, 3)
    assert report.head_hash == (await scratch.head())[1]
    assert report.as_json()["problems"] == []


async def test_an_empty_chain_verifies(scratch: Scratch) -> None:
    report = await verify(scratch)
    assert report.ok
    assert (report.entries, report.head_seq, report.head_hash) == (0, 0, chain.GENESIS_HASH)


async def test_a_changed_field_is_a_hash_mismatch_at_that_entry(scratch: Scratch) -> None:
    await chain_of(scratch)
    await as_attacker(scratch.engine, "UPDATE audit_entry SET fields = '{id_number}' WHERE seq = 17")
    report = await verify(scratch)
    assert not report.ok
    assert kinds(report) == [(17, "hash-mismatch")]


async def test_a_changed_entry_with_its_own_hash_recomputed_breaks_the_next_link(scratch: Scratch) -> None:
    await chain_of(scratch)
    async with scratch.engine.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM audit_entry WHERE seq = 17"))).one()
    body = chain.body_of_row(row._asdict())
    body["client_id"] = "someone-else"
    forged = chain.entry_hash(17, row.prev_hash, chain.canonical(body))
    await as_attacker(
        scratch.engine, "UPDATE audit_entry SET client_id = 'someone-else', hash = :hash WHERE seq = 17", hash=forged
    )
    assert kinds(await verify(scratch)) == [(18, "broken-link")]


async def test_a_deleted_entry_is_missing(scratch: Scratch) -> None:
    await chain_of(scratch)
    await as_attacker(scratch.engine, "DELETE FROM audit_entry WHERE seq = 17")
    report = await verify(scratch)
    assert not report.ok
    assert kinds(report) == [(17, "missing")]
    assert report.entries == 49


async def test_swapped_entries_are_detected_where_the_first_one_was(scratch: Scratch) -> None:
    await chain_of(scratch)
    columns = (
        "time, request_id, client_id, department, purpose, method, path, status, latency_us, request_hash, "
        "resources, grant_ids, record_keys, fields, prev_hash, hash"
    )
    await as_attacker(
        scratch.engine,
        f"UPDATE audit_entry AS a SET ({columns}) = (SELECT {columns} FROM audit_entry AS b "
        "WHERE b.seq = CASE a.seq WHEN 10 THEN 20 ELSE 10 END) WHERE a.seq IN (10, 20)",
    )
    report = await verify(scratch)
    assert not report.ok
    found = kinds(report)
    assert found[0][0] == 10
    assert {(10, "broken-link"), (10, "hash-mismatch"), (20, "broken-link"), (20, "hash-mismatch")} <= set(found)


async def test_a_consistent_rewrite_is_caught_by_the_signed_checkpoint(scratch: Scratch) -> None:
    await chain_of(scratch, checkpoints_at=(30,))
    await rewrite_from(scratch, 15)
    report = await verify(scratch)
    assert not report.ok
    assert kinds(report) == [(30, "checkpoint-mismatch")]
    assert report.checkpoints == 0


async def test_a_consistent_rewrite_after_the_last_checkpoint_is_caught_by_the_head(scratch: Scratch) -> None:
    await chain_of(scratch, checkpoints_at=(30,))
    await rewrite_from(scratch, 40, move_head=False)
    assert kinds(await verify(scratch)) == [(50, "head-mismatch")]


async def test_a_checkpoint_changed_to_match_a_rewrite_fails_its_signature(scratch: Scratch) -> None:
    await chain_of(scratch, checkpoints_at=(30,))
    await rewrite_from(scratch, 15)
    forged_30 = await scratch.scalar("SELECT hash FROM audit_entry WHERE seq = 30")
    await as_attacker(scratch.engine, "UPDATE audit_checkpoint SET hash = :hash WHERE seq = 30", hash=forged_30)
    assert kinds(await verify(scratch)) == [(30, "checkpoint-signature")]


async def test_a_checkpoint_re_signed_with_a_planted_key_is_not_trusted(scratch: Scratch) -> None:
    await chain_of(scratch, checkpoints_at=(30,))
    await rewrite_from(scratch, 15)
    # The forger plants a key of their own (they cannot seal it with the gateway's secret) and re-signs.
    planted = crypto.new_ed25519()
    await as_attacker(
        scratch.engine,
        "INSERT INTO signing_key (kid, public_jwk, private_key_encrypted, active) "
        "VALUES ('planted', CAST(:jwk AS jsonb), '\\x00', false)",
        jwk=json.dumps(crypto.public_jwk(planted, "planted")),
    )
    row = await scratch_checkpoint(scratch, 30)
    forged_30 = await scratch.scalar("SELECT hash FROM audit_entry WHERE seq = 30")
    signature = signing.sign(
        seq=30, hash=forged_30, time=row.signed_at, issuer=scratch.settings.issuer, kid="planted", key=planted
    )
    await as_attacker(
        scratch.engine,
        "UPDATE audit_checkpoint SET hash = :hash, kid = 'planted', signature = :signature WHERE seq = 30",
        hash=forged_30,
        signature=signature,
    )
    # Trusting whatever public key the database holds would be fooled ...
    assert (await verify(scratch)).ok
    # ... the gateway trusts only keys sealed with its own secret.
    async with AsyncSession(scratch.engine) as session:
        report = await service.verify(session, scratch.settings)
    assert kinds(report) == [(30, "checkpoint-unknown-key")]


async def scratch_checkpoint(scratch: Scratch, seq: int) -> Row[Any]:
    async with scratch.engine.connect() as connection:
        return (await connection.execute(text("SELECT * FROM audit_checkpoint WHERE seq = :seq"), {"seq": seq})).one()


async def test_a_truncated_tail_is_detected(scratch: Scratch) -> None:
    await chain_of(scratch)
    await as_attacker(scratch.engine, "DELETE FROM audit_entry WHERE seq >= 48")
    report = await verify(scratch)
    assert kinds(report) == [(48, "truncated")]
    assert report.head_seq == 50


async def test_a_head_moved_back_below_a_checkpoint_is_detected(scratch: Scratch) -> None:
    await chain_of(scratch, checkpoints_at=(30, 50))
    await as_attacker(scratch.engine, "DELETE FROM audit_entry WHERE seq > 40")
    await as_attacker(
        scratch.engine, "UPDATE audit_head SET seq = 40, hash = (SELECT hash FROM audit_entry WHERE seq = 40)"
    )
    report = await verify(scratch)
    assert kinds(report) == [(50, "checkpoint-beyond-head")]


async def test_entries_above_the_head_are_detected(scratch: Scratch) -> None:
    await chain_of(scratch, checkpoints_at=())
    await as_attacker(
        scratch.engine,
        "INSERT INTO audit_entry SELECT 51, time, request_id, client_id, department, purpose, method, path, status, "
        "latency_us, request_hash, resources, grant_ids, record_keys, fields, hash, hash FROM audit_entry "
        "WHERE seq = 50",
    )
    assert kinds(await verify(scratch)) == [(51, "beyond-head")]


async def test_a_missing_head_row_is_detected(scratch: Scratch) -> None:
    await chain_of(scratch, checkpoints_at=())
    await as_attacker(scratch.engine, "DELETE FROM audit_head")
    report = await verify(scratch)
    assert kinds(report) == [(None, "head-missing")]
    assert report.entries == 50


async def test_verify_database_needs_only_a_dsn(scratch: Scratch) -> None:
    await chain_of(scratch, checkpoints_at=(30,))
    report = await verify_database(scratch.dsn)
    assert report.as_json() == {
        "ok": True,
        "entries": 50,
        "head_seq": 50,
        "head_hash": (await scratch.head())[1],
        "checkpoints": 1,
        "problems": [],
    }
    await as_attacker(scratch.engine, "UPDATE audit_entry SET status = 200 WHERE seq = 3 AND status = 200")
    await as_attacker(scratch.engine, "UPDATE audit_entry SET status = 404 WHERE seq = 3")
    assert (await verify_database(scratch.dsn.replace("+asyncpg", ""))).as_json()["problems"] == [
        {"seq": 3, "kind": "hash-mismatch", "detail": "entry 3 does not match its hash: it was changed"}
    ]


@pytest.mark.parametrize("max_problems", [1, 3])
async def test_problems_are_capped_but_still_fail_the_chain(scratch: Scratch, max_problems: int) -> None:
    await chain_of(scratch, checkpoints_at=())
    await as_attacker(scratch.engine, "UPDATE audit_entry SET status = 599 WHERE seq % 5 = 0")
    async with scratch.engine.connect() as connection:
        report = await verify_chain(connection, max_problems=max_problems)
    assert not report.ok
    assert len(report.problems) == max_problems
