"""How an import writes a block of checked records: ``COPY`` of the records (and their versions), deferred events.

The same records, first versions and ``registered`` events as ``records.register`` writes for each, by a handful
of statements per block (the database's own bulk load) instead of statements per row:

- the block's records, written as ``COPY`` text by the workers that checked them (``checking``), are copied into
  the record table; a key registered meanwhile (by the API, or by another import) fails the copy, which is undone
  and done again without the keys found registered, reported taken — race-safe like ``records.register``;
- their first versions (the whole record, who, when): a kind that keeps an imported record's first version in the
  record's own row (its ``unwritten_first_version`` answers :func:`first_version_in_row`) has each row name its
  import in an ``import_id`` column; the row is that version until its first change writes it out
  (``records.apply_change``), so an import writes one row per record, not two, as population does. For other kinds
  the workers write the first versions too, copied into the version table;
- their ``registered`` events are deferred (:func:`defer_registrations`: a few outbox rows naming the keys of
  several blocks), and written by the relay at publication from each record's first version, which never changes
  once committed (:func:`registrations_renderer`; a registry lists it in its ``ServiceSpec.renderers``).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Text, and_, any_, cast, select
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
    session: AsyncSession, kind: RecordKind[Any], block: Sequence[tuple[str, str, str | None]], columns: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Register records with distinct keys: the keys registered, and those that were taken already.

    ``block`` holds each record as (key, its row as ``COPY`` text in ``columns`` order, its first version's row as
    ``COPY`` text in :data:`VERSION_COLUMNS` order, or ``None`` when the record's row holds it). Inside the import's
    transaction; it never commits. Their events are the caller's to defer (:func:`defer_registrations`), a few
    blocks' at once.
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
    versions = [version for _, _, version in block if version is not None]
    await copy_text_rows(session, kind.version_table.__table__.name, (kind.key, *VERSION_COLUMNS), versions)
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


def keeps_first_version_in_row(kind: RecordKind[Any]) -> bool:
    """Whether an import leaves ``kind``'s first versions in the record rows (see the module's docstring)."""
    return kind.unwritten_first_version is not None


async def first_version_in_row(
    kind: RecordKind[Any], imports: type[Any], connection: asyncpg.Connection, row: Any
) -> dict[str, Any] | None:
    """The version-table columns of an imported record's first version while its row holds it, or ``None``.

    For a kind whose table names the import that registered a record in ``import_id`` (its ``unwritten_first_version``
    calls this): while the record is unchanged since that import (version 1), its first version has no row in the
    version table but is the record's row as it stands, recorded at its creation by the import's client and request
    (from the import table ``imports``, :class:`~onesource.registry.imports.models.RecordImportColumns`).
    """
    import_id = row.import_id
    if import_id is None or row.version != 1:
        return None
    registered_by = await connection.fetchrow(_importer_statement(imports.__table__.name), import_id)
    if registered_by is None:  # imports are never deleted; a missing one is a broken database, not bad input
        raise LookupError(f"import {import_id}, which registered {kind.key_of(row)}, is missing")
    return {
        kind.key: kind.key_of(row),
        "version": 1,
        "change": "registered",
        "changes": kind.record_of(row),
        "recorded_at": row.created_at,
        "recorded_by": registered_by["client_id"],
        "department": registered_by["department"],
        "request_id": registered_by["request_id"],
    }


@functools.cache
def _importer_statement(imports_table: str) -> str:
    return f'SELECT client_id, department, request_id FROM "{imports_table}" WHERE id = $1'


def registrations_renderer(kind: RecordKind[Any]) -> tuple[str, outbox.Renderer]:
    """The relay's renderer of ``kind``'s imported registrations, by its name (for ``ServiceSpec.renderers``).

    Each event is the ``registered`` event of the record's first version, as ``records.register`` writes it: from
    the record's row while it holds that version (the record as the API shapes it, ``kind.record_of``), else from
    the version table. Its id is derived from the import and the key, so an event published again after a relay
    failure keeps its id.
    """
    versions = kind.version_table.__table__
    version_key = versions.c[kind.key]
    table = kind.table.__table__
    in_row = keeps_first_version_in_row(kind)
    first_record = versions.c.changes.cast(Text).label("first_record")
    if in_row:
        # the row and the written-out first version, read together: a change writes one out as it changes the other
        statement = select(table, first_record).outerjoin(
            versions, and_(version_key == table.c[kind.key], versions.c.version == 1)
        )
        key_column = table.c[kind.key]
    else:
        statement = select(version_key, first_record).where(versions.c.version == 1)
        key_column = version_key
    fields = set(kind.record_fields)

    async def render(connection: AsyncConnection, deferred: outbox.Deferred) -> list[outbox.Message]:
        import_id = str(deferred.details["import_id"])
        at = datetime.fromisoformat(deferred.details["at"])
        writer = EnvelopeWriter(kind.registered, at)
        rows = await connection.execute(statement.where(key_column.in_(deferred.keys)))
        found = {str(row[kind.key]): row for row in rows.mappings()}
        messages = []
        for key in deferred.keys:
            row = found.get(key)
            if row is not None and in_row and row["version"] == 1 and str(row["import_id"]) == import_id:
                record = _json_text(kind.shape.model_validate(dict(row)).model_dump(mode="json", include=fields))
            elif row is not None and row["first_record"] is not None:
                record = row["first_record"]
            else:  # records are never deleted, and the import committed with this version
                raise LookupError(f"{key}, registered by import {import_id}, has no first version")
            event_id = derived_event_id(at, import_id, key)
            _, event_json = writer(key, f'{{"record":{record}}}', event_id)
            messages.append(outbox.Message(event_id, key, event_json))
        return messages

    return renderer_name(kind), render


# As the API's events hold their records' text: UTF-8, not escaped, and compact.
_json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
