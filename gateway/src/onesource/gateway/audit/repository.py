"""Every SQL statement of the audit log (writer, checkpoints, verification, access history).

Verification, checkpoint and endpoint functions take an ``AsyncConnection`` or an ``AsyncSession`` (verification
runs on whichever it is given); the writer's two statements take the asyncpg connection under its own one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, Text, column, func, select, table, true
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from onesource.gateway.audit.models import ChainCheckpoint, ChainEntry, ChainHead
from onesource.gateway.models import SigningKey
from onesource.gateway.resources.models import CatalogResource

Executor = AsyncConnection | AsyncSession
"""Where a statement runs."""

#: The catalog read models (migrations 0003 and 0006): only these columns matter here, so lightweight table clauses
#: avoid depending on their mapped classes.
_catalog_resource = table("catalog_resource", column("id", Text), column("provider", Text), column("service", Text))
_catalog_registry = table("catalog_registry", column("service", Text), column("owner", Text))

#: Separates resource and key in ``audit_record_refs`` (U+001F UNIT SEPARATOR; resource ids are slugs).
REF_SEPARATOR = "\x1f"

#: The writer's statements run on the asyncpg connection under its SQLAlchemy connection: per-statement overhead of
#: SQLAlchemy (and of the tracing instrumentation on the app's engine) tripled the cost of a batch, and the writer
#: runs one at a time, so a batch's latency is what every waiting call pays.
_LOCK_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"

#: Inserts the batch ``$1`` (a JSON array of ``audit_entry`` rows): one prepared statement whatever the batch size
#: (``jsonb_to_recordset`` turns the array into a relation; JSON arrays become ``text[]``).
_INSERT_BATCH = """
        INSERT INTO audit_entry (
            seq, time, request_id, client_id, department, purpose, method, path, status, latency_us,
            request_hash, resources, grant_ids, record_keys, fields, prev_hash, hash
        )
        SELECT
            seq, time, request_id, client_id, department, purpose, method, path, status, latency_us,
            request_hash, resources, grant_ids, record_keys, fields, prev_hash, hash
        FROM jsonb_to_recordset(CAST($1::text AS jsonb)) AS r(
            seq bigint, time timestamptz, request_id text, client_id text, department text, purpose text,
            method text, path text, status integer, latency_us bigint, request_hash text, resources text[],
            grant_ids text[], record_keys text[], fields text[], prev_hash text, hash text
        )
"""

#: Under the head lock: append the batch and move the head in one statement (one round trip).
_APPEND = f"""
    WITH appended AS ({_INSERT_BATCH})
    UPDATE audit_head SET seq = $2, hash = $3, updated_at = now() WHERE id = 1
"""

#: The fast path of a writer that knows the head it committed last: append and move the head in one autocommit
#: statement — one round trip, where locking takes four (BEGIN, lock, append, COMMIT). The head moves only if it
#: is still where this writer left it; another gateway process that moved it meanwhile holds the row lock until
#: it commits, after which the condition is re-checked on the new row (READ COMMITTED), fails, and nothing is
#: inserted: the writer then takes the locking path.
_APPEND_IF_HEAD = f"""
    WITH moved AS (
        UPDATE audit_head SET seq = $2, hash = $3, updated_at = now()
        WHERE id = 1 AND seq = $4 AND hash = $5
        RETURNING seq
    ), appended AS ({_INSERT_BATCH}
        WHERE EXISTS (SELECT FROM moved)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM moved) AS moved, (SELECT count(*) FROM appended) AS appended
"""


async def append_if_head(
    driver: Any, rows_json: str, *, head_seq: int, head_hash: str, expected_seq: int, expected_hash: str
) -> bool:
    """Append and move the head in one autocommit statement if the head is still ``expected_*``; whether it was."""
    row = await driver.fetchrow(_APPEND_IF_HEAD, rows_json, head_seq, head_hash, expected_seq, expected_hash)
    return bool(row is not None and row["moved"] == 1)


async def has_entry(driver: Any, seq: int, hash: str) -> bool:
    """Whether entry ``seq`` with ``hash`` is committed (hashes chain every earlier entry: it names one batch)."""
    found = await driver.fetchval("SELECT 1 FROM audit_entry WHERE seq = $1 AND hash = $2", seq, hash)
    return found is not None


@dataclass(frozen=True, slots=True)
class HeadState:
    """The head row and what lies around it, read in one statement (one snapshot)."""

    seq: int
    hash: str
    entries_beyond: int
    """Entries with a ``seq`` above the head (a writer never leaves any)."""
    last_checkpoint: int | None
    """The highest checkpointed ``seq`` (a checkpoint never names a ``seq`` above the head)."""


async def lock_head(driver: Any) -> tuple[int, str]:
    """Lock the head row until the transaction ends and return its ``seq`` and ``hash`` (``driver``: asyncpg)."""
    row = await driver.fetchrow(_LOCK_HEAD)
    if row is None:
        raise RuntimeError("the audit head row is missing")
    return int(row["seq"]), str(row["hash"])


async def append(driver: Any, rows_json: str, *, head_seq: int, head_hash: str) -> None:
    """Insert the entries in ``rows_json`` (a JSON array of ``audit_entry`` rows) and move the head to their end."""
    status: str = await driver.execute(_APPEND, rows_json, head_seq, head_hash)
    if status != "UPDATE 1":
        raise RuntimeError(f"the audit head did not move ({status})")


async def head(executor: Executor) -> tuple[int, str] | None:
    """The committed head (``seq``, ``hash``), without locking."""
    row = (await executor.execute(select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == 1))).first()
    return None if row is None else (int(row.seq), str(row.hash))


async def head_state(executor: Executor) -> HeadState | None:
    """The head with the count of entries above it and the last checkpoint, consistently; ``None`` without head."""
    beyond = select(func.count()).select_from(ChainEntry).where(ChainEntry.seq > ChainHead.seq).scalar_subquery()
    last_checkpoint = select(func.max(ChainCheckpoint.seq)).scalar_subquery()
    statement = select(ChainHead.seq, ChainHead.hash, beyond.label("beyond"), last_checkpoint.label("checkpoint"))
    row = (await executor.execute(statement.where(ChainHead.id == 1))).first()
    if row is None:
        return None
    return HeadState(
        seq=int(row.seq), hash=str(row.hash), entries_beyond=int(row.beyond), last_checkpoint=row.checkpoint
    )


async def entries_after(executor: Executor, after: int, *, upto: int, limit: int) -> Sequence[Row[Any]]:
    """Up to ``limit`` entries with ``after < seq <= upto``, in ``seq`` order."""
    statement = (
        select(*ChainEntry.__table__.columns)
        .where(ChainEntry.seq > after, ChainEntry.seq <= upto)
        .order_by(ChainEntry.seq)
        .limit(limit)
    )
    return (await executor.execute(statement)).all()


async def checkpoints_between(executor: Executor, after: int, upto: int) -> Sequence[Row[Any]]:
    """Checkpoints with ``after < seq <= upto``, in ``seq`` order."""
    statement = (
        select(*ChainCheckpoint.__table__.columns)
        .where(ChainCheckpoint.seq > after, ChainCheckpoint.seq <= upto)
        .order_by(ChainCheckpoint.seq)
    )
    return (await executor.execute(statement)).all()


async def last_checkpoint_seq(executor: Executor) -> int:
    """The highest checkpointed ``seq`` (0 without checkpoints)."""
    found = (await executor.execute(select(func.max(ChainCheckpoint.seq)))).scalar()
    return int(found or 0)


async def insert_checkpoint(
    executor: Executor, *, seq: int, hash: str, signed_at: datetime, kid: str, signature: str
) -> bool:
    """Store a checkpoint unless one for ``seq`` exists (another gateway signed it first); whether it was stored."""
    statement = (
        insert(ChainCheckpoint)
        .values(seq=seq, hash=hash, signed_at=signed_at, kid=kid, signature=signature)
        .on_conflict_do_nothing(index_elements=[ChainCheckpoint.seq])
        .returning(ChainCheckpoint.seq)
    )
    return (await executor.execute(statement)).first() is not None


def checkpoints() -> Select[tuple[ChainCheckpoint]]:
    """Every signed checkpoint (the caller orders and pages them)."""
    return select(ChainCheckpoint)


async def signing_keys(executor: Executor) -> Sequence[Row[Any]]:
    """Every signing key the gateway ever had (``kid``, ``public_jwk``, ``private_key_encrypted``)."""
    statement = select(SigningKey.kid, SigningKey.public_jwk, SigningKey.private_key_encrypted)
    return (await executor.execute(statement)).all()


@dataclass(frozen=True)
class ResourceOwnership:
    """Who provides a resource, the registry it names, and who owns that registry (per the catalog read models)."""

    provider: str
    service: str | None
    owner: str | None
    """The owner of ``service``; ``None`` when the resource names no service or its owner is not known."""


async def ownership_of(executor: Executor, resource: str) -> ResourceOwnership | None:
    """The provider of ``resource`` and the owner of its registry; ``None`` when the resource is unknown."""
    statement = (
        select(_catalog_resource.c.provider, _catalog_resource.c.service, _catalog_registry.c.owner)
        .select_from(
            _catalog_resource.outerjoin(_catalog_registry, _catalog_registry.c.service == _catalog_resource.c.service)
        )
        .where(_catalog_resource.c.id == resource)
    )
    found = (await executor.execute(statement)).first()
    if found is None:
        return None
    provider, service, owner = found
    return ResourceOwnership(str(provider), service, owner)


def accesses(resource: str, key: str) -> Select[tuple[ChainEntry]]:
    """The entries that touched record ``key`` of ``resource`` (the caller orders and pages them)."""
    refs = func.audit_record_refs(ChainEntry.resources, ChainEntry.record_keys, type_=ARRAY(Text))
    return select(ChainEntry).where(refs.contains([resource + REF_SEPARATOR + key]))  # ix_audit_entry_record_refs


async def calls_by_consumer(session: AsyncSession, since: datetime, until: datetime) -> Sequence[Row[Any]]:
    """Per calling department: its data calls (entries naming a resource) in ``[since, until)``, and those answered."""
    entry = ChainEntry.__table__
    statement = (
        select(
            entry.c.department,
            func.count().label("calls"),
            func.count().filter(entry.c.status < 400).label("answered"),
        )
        .where(
            entry.c.time >= since,
            entry.c.time < until,
            entry.c.department.is_not(None),
            func.cardinality(entry.c.resources) > 0,
        )
        .group_by(entry.c.department)
        .order_by(entry.c.department)
    )
    return (await session.execute(statement)).all()


async def calls_by_provider(session: AsyncSession, since: datetime, until: datetime) -> Sequence[Row[Any]]:
    """Per providing department (the provider of a resource a call named): data calls in ``[since, until)``."""
    entry = ChainEntry.__table__
    named = func.unnest(entry.c.resources).table_valued("resource").render_derived(name="named")
    resource = CatalogResource.__table__
    statement = (
        select(
            resource.c.provider.label("department"),
            func.count(func.distinct(entry.c.seq)).label("calls"),
            func.count(func.distinct(entry.c.seq)).filter(entry.c.status < 400).label("answered"),
        )
        .select_from(entry.join(named, true()).join(resource, resource.c.id == named.c.resource))
        .where(entry.c.time >= since, entry.c.time < until)
        .group_by(resource.c.provider)
        .order_by(resource.c.provider)
    )
    return (await session.execute(statement)).all()
