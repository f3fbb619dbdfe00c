"""How an import writes a block of checked records: ``COPY`` of the records and their versions, deferred events.

The same records, first versions and ``registered`` events as ``records.register`` writes for each, by a handful
of statements per block (the database's own bulk load) instead of statements per row:

- the block's records, written as ``COPY`` text by the workers that checked them (``checking``), are copied into
  the record table; a key registered meanwhile (by the API, or by another import) fails the copy, which is undone
  and done again without the keys found registered, reported taken — race-safe like ``records.register``;
- their first versions (the whole record, who, when), also written by the workers, are copied into the version
  table;
- their ``registered`` events are deferred (:func:`defer_registrations`: a few outbox rows naming the keys of
  several blocks), and written by the relay at publication from each record's first version, which never changes
  once committed (:func:`registrations_renderer`; a registry lists it in its ``ServiceSpec.renderers``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Text, any_, cast, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from onesource.kit import outbox
from onesource.kit.db import copy_text_rows, driver_connection
from onesource.kit.events import EnvelopeWriter, derived_event_id
from onesource.registry.records import RecordKind

#: Columns of a first version's ``COPY`` row after the key (its time is the transaction's, the column's default).
VERSION_COLUMNS = ("version", "change", "changes", "recorded_by", "department", "request_id")


def renderer_name(kind: RecordKind[Any]) -> str:
    """The name of the renderer of ``kind``'s imported registrations (stored in outbox rows: never rename it)."""
    return f"registry.imported-registrations.{kind.version_table.__table__.name}"


#: Attempts at loading one block when concurrent registrations keep taking its keys.
_LOAD_ATTEMPTS = 5


async def register_block(
    session: AsyncSession, kind: RecordKind[Any], block: Sequence[tuple[str, str, str]], columns: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Register records with distinct keys: the keys registered, and those that were taken already.

    ``block`` holds each record as (key, its row as ``COPY`` text in ``columns`` order, its first version's row as
    ``COPY`` text in :data:`VERSION_COLUMNS` order). Inside the import's transaction; it never commits. Their events
    are the caller's to defer (:func:`defer_registrations`), a few blocks' at once.
    """
    taken: list[str] = []
    driver = await driver_connection(session)
    for attempt in range(_LOAD_ATTEMPTS):
        if attempt:  # only after a conflict: looking first would cost every block a query
            registered = await _registered(session, kind, [key for key, _, _ in block])
            taken.extend(key for key, _, _ in block if key in registered)
            block = [record for record in block if record[0] not in registered]
        if not block:
            return [], taken
        # Straight into the record table, as fast as the database loads rows; a key registered meanwhile (by the API,
        # or another import) fails the whole COPY, which is undone to its savepoint and tried again without it. The
        # savepoint is the driver's own (nested in the session's transaction): through the session, its two
        # statements cost a block more than its versions' COPY.
        try:
            async with driver.transaction():
                await copy_text_rows(session, kind.table.__table__.name, columns, [row for _, row, _ in block])
        except asyncpg.UniqueViolationError:
            if attempt == _LOAD_ATTEMPTS - 1:
                raise
            continue
        break
    await copy_text_rows(
        session, kind.version_table.__table__.name, (kind.key, *VERSION_COLUMNS), [version for _, _, version in block]
    )
    return [key for key, _, _ in block], taken


#: Keys an import's deferred events name per outbox row and shard at most, about (as population's blocks do).
DEFERRED_KEYS = 5000


async def defer_registrations(
    session: AsyncSession, kind: RecordKind[Any], keys: Sequence[str], import_id: uuid.UUID, at: datetime
) -> None:
    """Add the ``registered`` events of ``keys``, registered by the import ``import_id`` at ``at``, to the outbox.

    Deferred (:func:`registrations_renderer` writes them at publication): a few outbox rows naming the keys.
    """
    if keys:
        details = {"import_id": str(import_id), "at": at.isoformat()}
        await outbox.add_deferred(session, renderer_name(kind), kind.registered.topic, keys, details)


async def _registered(session: AsyncSession, kind: RecordKind[Any], keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` have a record."""
    key_column = kind.table.__table__.c[kind.key]
    found = await session.execute(select(key_column).where(key_column == any_(cast(list(keys), ARRAY(Text)))))
    return {str(key) for key in found.scalars()}


def registrations_renderer(kind: RecordKind[Any]) -> tuple[str, outbox.Renderer]:
    """The relay's renderer of ``kind``'s imported registrations, by its name (for ``ServiceSpec.renderers``).

    Each event is the ``registered`` event of the record's first version, as ``records.register`` writes it; its
    id is derived from the import and the key, so an event published again after a relay failure keeps its id.
    """
    versions = kind.version_table.__table__
    key_column = versions.c[kind.key]

    async def render(connection: AsyncConnection, deferred: outbox.Deferred) -> list[outbox.Message]:
        import_id = str(deferred.details["import_id"])
        at = datetime.fromisoformat(deferred.details["at"])
        writer = EnvelopeWriter(kind.registered, at)
        rows = await connection.execute(
            select(key_column, versions.c.changes.cast(Text)).where(
                key_column.in_(deferred.keys), versions.c.version == 1
            )
        )
        found: dict[str, str] = {key: record for key, record in rows.tuples()}
        messages = []
        for key in deferred.keys:
            record = found.get(key)
            if record is None:  # records are never deleted, and the import committed with this version
                raise LookupError(f"{key}, registered by import {import_id}, has no first version")
            event_id = derived_event_id(at, import_id, key)
            _, event_json = writer(key, f'{{"record":{record}}}', event_id)
            messages.append(outbox.Message(event_id, key, event_json))
        return messages

    return renderer_name(kind), render
