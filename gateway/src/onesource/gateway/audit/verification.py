"""Verification of the audit chain, with or without the running gateway (``verify_database(dsn)`` for a CLI).

The chain is read in ``seq`` order in batches (keyset pages, so memory stays flat however long it is) up to the
head as it was when verification began: a batch commits its entries together with the head move, so every entry
at or below that head is committed, and entries appended meanwhile are simply not looked at. What is checked:

- every entry's hash is the hash of its own contents, ``seq`` and ``prev_hash`` (:mod:`.chain`) — else
  ``hash-mismatch`` (the entry was changed);
- ``seq`` runs 1, 2, 3 … without gaps — else ``missing`` (entries were deleted);
- every ``prev_hash`` is the stored hash of the entry before — else ``broken-link`` (entries were reordered,
  swapped, inserted, or rewritten from there on);
- every signed checkpoint verifies with a trusted key and names the hash the entry at its ``seq`` has — else
  ``checkpoint-signature`` / ``checkpoint-unknown-key`` / ``checkpoint-mismatch`` (the chain was rewritten
  consistently, hashes recomputed, at or before that ``seq``);
- the head row names the last entry and its hash — else ``truncated`` (entries at the tail were deleted),
  ``head-mismatch`` (the tail was rewritten), ``beyond-head`` (entries were added above it), or
  ``checkpoint-beyond-head`` (the head was moved back below a signed checkpoint).

A rewrite after the last checkpoint that also moves the head consistently can only be caught against a copy of
the head or checkpoint kept outside the database — which is what the signed checkpoints are for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Row, pool
from sqlalchemy.ext.asyncio import create_async_engine

from onesource.gateway.audit import repository, signing
from onesource.gateway.audit.chain import GENESIS_HASH, body_of_row, canonical, entry_hash, timestamp
from onesource.gateway.audit.repository import Executor

ProblemKind = Literal[
    "hash-mismatch",
    "missing",
    "broken-link",
    "truncated",
    "head-mismatch",
    "head-missing",
    "beyond-head",
    "checkpoint-mismatch",
    "checkpoint-signature",
    "checkpoint-unknown-key",
    "checkpoint-beyond-head",
]

#: Above any real ``seq``: how far to read when the head row itself is gone.
_NO_HEAD_LIMIT = 2**63 - 1


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One thing wrong with the chain."""

    seq: int | None
    """Where: the first entry (or checkpoint) concerned."""
    kind: ProblemKind
    detail: str


@dataclass(slots=True)
class ChainReport:
    """What verification found."""

    ok: bool
    """No problem at all."""
    entries: int
    """Entries read."""
    head_seq: int
    head_hash: str
    checkpoints: int
    """Checkpoints whose signature verified and whose hash matched the chain."""
    problems: list[ChainProblem] = field(default_factory=list)
    """The first problems found, in the order found (at most ``max_problems``)."""

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready values (the shape of ``GET /api/audit/v1/verify``)."""
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "checkpoints": self.checkpoints,
            "problems": [{"seq": p.seq, "kind": p.kind, "detail": p.detail} for p in self.problems],
        }


class _Findings:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.kept: list[ChainProblem] = []

    def add(self, seq: int | None, kind: ProblemKind, detail: str) -> None:
        self.count += 1
        if len(self.kept) < self.limit:
            self.kept.append(ChainProblem(seq, kind, detail))


def public_keys(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS document (RFC 7517), by ``kid``; other keys are left out."""
    found: dict[str, Ed25519PublicKey] = {}
    for jwk in jwks.get("keys", []):
        try:
            key = jwt.PyJWK(jwk).key
        except jwt.PyJWTError:
            continue
        if isinstance(key, Ed25519PublicKey) and isinstance(jwk.get("kid"), str):
            found[jwk["kid"]] = key
    return found


async def stored_public_keys(executor: Executor) -> dict[str, Ed25519PublicKey]:
    """The public halves of every signing key in the database (the JWKS only lists recent ones)."""
    rows = await repository.signing_keys(executor)
    return public_keys({"keys": [row.public_jwk for row in rows]})


def _check_checkpoint(
    checkpoint: Row[Any], chained_hash: str | None, keys: Mapping[str, Ed25519PublicKey], findings: _Findings
) -> bool:
    seq = int(checkpoint.seq)
    key = keys.get(checkpoint.kid)
    if key is None or signing.kid_of(checkpoint.signature) != checkpoint.kid:
        findings.add(seq, "checkpoint-unknown-key", f"checkpoint {seq} names key {checkpoint.kid!r}, not a trusted one")
        return False
    try:
        signed = signing.verified_payload(checkpoint.signature, key)
    except (jwt.PyJWTError, ValueError):
        findings.add(seq, "checkpoint-signature", f"the signature of checkpoint {seq} does not verify")
        return False
    if (signed.get("seq"), signed.get("hash"), signed.get("time")) != (
        seq,
        checkpoint.hash,
        timestamp(checkpoint.signed_at),
    ):
        findings.add(seq, "checkpoint-signature", f"checkpoint {seq} differs from what its signature covers")
        return False
    if chained_hash is None:
        findings.add(seq, "checkpoint-mismatch", f"entry {seq}, covered by a signed checkpoint, is missing")
        return False
    if chained_hash != signed["hash"]:
        findings.add(
            seq,
            "checkpoint-mismatch",
            f"entry {seq} has hash {chained_hash} but was signed as {signed['hash']}: the chain was rewritten",
        )
        return False
    return True


async def verify_chain(
    executor: Executor,
    *,
    keys: Mapping[str, Ed25519PublicKey] | None = None,
    batch_size: int = 1000,
    max_problems: int = 100,
) -> ChainReport:
    """Recompute the chain read through ``executor`` (a session or connection) and check it against its checkpoints.

    ``keys`` are the trusted checkpoint keys by ``kid`` (default: every key in the ``signing_key`` table).
    """
    findings = _Findings(max_problems)
    if keys is None:
        keys = await stored_public_keys(executor)
    state = await repository.head_state(executor)
    if state is None:
        findings.add(None, "head-missing", "the chain head row is missing")
        upto, head_hash = _NO_HEAD_LIMIT, GENESIS_HASH
    else:
        upto, head_hash = state.seq, state.hash
        if state.entries_beyond:
            findings.add(state.seq + 1, "beyond-head", f"{state.entries_beyond} entries lie above the head {state.seq}")
        if state.last_checkpoint is not None and state.last_checkpoint > state.seq:
            findings.add(
                state.last_checkpoint,
                "checkpoint-beyond-head",
                f"checkpoint {state.last_checkpoint} was signed but the head is at {state.seq}: the chain was cut",
            )
    entries = verified = 0
    last, prev_hash = 0, GENESIS_HASH
    while True:
        rows = await repository.entries_after(executor, last, upto=upto, limit=batch_size)
        if not rows:
            break
        chained: dict[int, str] = {}
        batch_after = last
        for row in rows:
            seq = int(row.seq)
            entries += 1
            if seq != last + 1:
                findings.add(last + 1, "missing", f"entries {last + 1}..{seq - 1} are missing")
            elif row.prev_hash != prev_hash:
                findings.add(seq, "broken-link", f"entry {seq} does not link to the hash of entry {last}")
            if entry_hash(seq, row.prev_hash, canonical(body_of_row(row._asdict()))) != row.hash:
                findings.add(seq, "hash-mismatch", f"entry {seq} does not match its hash: it was changed")
            chained[seq] = row.hash
            last, prev_hash = seq, row.hash
        for checkpoint in await repository.checkpoints_between(executor, batch_after, last):
            verified += _check_checkpoint(checkpoint, chained.get(int(checkpoint.seq)), keys, findings)
    if state is not None:
        for checkpoint in await repository.checkpoints_between(executor, last, upto):
            _check_checkpoint(checkpoint, None, keys, findings)
        if last < upto:
            findings.add(last + 1, "truncated", f"the head is at {upto} but the chain ends at {last}")
        elif prev_hash != head_hash:
            findings.add(upto, "head-mismatch", f"the head names hash {head_hash} but entry {upto} has {prev_hash}")
    else:
        upto, head_hash = last, prev_hash
    return ChainReport(
        ok=findings.count == 0,
        entries=entries,
        head_seq=upto,
        head_hash=head_hash,
        checkpoints=verified,
        problems=findings.kept,
    )


async def verify_database(dsn: str, *, jwks: Mapping[str, Any] | None = None) -> ChainReport:
    """Verify the chain in the gateway database at ``dsn`` (``postgresql[+asyncpg]://…``), without the app.

    ``jwks`` (e.g. the gateway's ``/.well-known/jwks.json``, kept by an auditor) adds trusted keys and overrides
    the stored ones of the same ``kid``.
    """
    if dsn.startswith("postgresql://"):
        dsn = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(dsn, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            keys = await stored_public_keys(connection)
            if jwks is not None:
                keys.update(public_keys(jwks))
            return await verify_chain(connection, keys=keys)
    finally:
        await engine.dispose()
