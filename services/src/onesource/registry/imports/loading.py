"""How an import writes a block of checked records: ``COPY``, one set-based insert, and deferred events.

The same records, first versions and ``registered`` events as ``records.register`` writes for each, by a handful
of statements per block instead of ORM objects per row (which cost an import most of its time):

- the block's values are copied (``COPY``, binary) into a temporary table shaped like the record table, and moved
  into it by one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``: a key registered meanwhile (by the API,
  or by another import) is simply not returned, and reported taken — race-safe like ``records.register``;
- the first versions of the rows it returned (the whole record, who, when) are copied into the version table;
- their ``registered`` events are deferred (``outbox.add_deferred``: a few outbox rows per block naming the keys),
  and written by the relay at publication from each record's first version, which never changes once committed
  (:func:`registrations_renderer`; a registry lists it in its ``ServiceSpec.renderers``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from onesource.kit import outbox
from onesource.kit.auth import Principal
from onesource.kit.db import driver_connection
from onesource.kit.events import EnvelopeWriter, derived_event_id
from onesource.kit.telemetry import request_id_var
from onesource.registry.records import RecordKind

_VERSION_COLUMNS = ("version", "change", "changes", "recorded_at", "recorded_by", "department", "request_id")


def renderer_name(kind: RecordKind[Any]) -> str:
    """The name of the renderer of ``kind``'s imported registrations (stored in outbox rows: never rename it)."""
    return f"registry.imported-registrations.{kind.version_table.__table__.name}"


def _json_columns(kind: RecordKind[Any]) -> frozenset[str]:
    return frozenset(c.name for c in kind.table.__table__.columns if isinstance(c.type, JSON))


async def register_block(
    session: AsyncSession,
    kind: RecordKind[Any],
    many: Sequence[dict[str, Any]],
    by: Principal,
    import_id: uuid.UUID,
) -> tuple[list[Any], list[str]]:
    """Register ``many`` records with distinct keys (every ``values`` with the same fields) for import ``import_id``.

    Returns the registered rows (their columns, as the table holds them) in the order given, and the keys that were
    taken already. Inside the import's transaction; it never commits.
    """
    if not many:
        return [], []
    records = kind.table.__table__
    names = list(many[0])
    as_json = _json_columns(kind) & set(names)
    # The import's own temporary table, gone with its transaction, emptied for each block. Named after the import:
    # asyncpg keeps the statements of a COPY prepared, and none may name an earlier import's table, dropped since.
    staging = f"import_{records.name}_{import_id.hex}"
    driver = await driver_connection(session)
    # Through the session, which begins the import's transaction on the connection if nothing did yet (a
    # statement sent straight to the driver would run outside it, and the table be dropped at once).
    like = f'(LIKE "{records.name}" INCLUDING DEFAULTS) ON COMMIT DROP'
    await session.execute(text(f'CREATE TEMPORARY TABLE IF NOT EXISTS "{staging}" {like}'))
    await session.execute(text(f'TRUNCATE "{staging}"'))
    rows = [
        tuple(
            json.dumps(values[name], ensure_ascii=False)
            if name in as_json and values[name] is not None
            else values[name]
            for name in names
        )
        for values in many
    ]
    await driver.copy_records_to_table(staging, records=rows, columns=names)
    columns = ", ".join(f'"{name}"' for name in names)
    # Straight on the driver, which hands back the columns as it decodes them (SQLAlchemy's result processing of
    # an array column cost more than the whole statement); JSON columns come as their text.
    moved = await driver.fetch(
        f'INSERT INTO "{records.name}" ({columns}) SELECT {columns} FROM "{staging}" '
        f'ON CONFLICT ("{kind.key}") DO NOTHING RETURNING *'
    )
    json_columns = _json_columns(kind)
    registered: dict[str, dict[str, Any]] = {}
    for row in moved:
        values = dict(row)
        for name in json_columns:
            if isinstance(values[name], str):
                values[name] = json.loads(values[name])
        registered[str(values[kind.key])] = values
    ordered = [registered[key] for values in many if (key := str(values[kind.key])) in registered]
    taken = [str(values[kind.key]) for values in many if str(values[kind.key]) not in registered]
    if ordered:
        request_id = request_id_var.get()
        shape, fields = kind.shape, set(kind.record_fields)
        versions = [
            (
                str(row[kind.key]),
                1,
                "registered",
                # the record as ``kind.record_of`` makes it, written as JSON text at once
                shape.model_validate(row).model_dump_json(include=fields),
                row["updated_at"],
                by.client_id,
                by.department,
                request_id,
            )
            for row in ordered
        ]
        await driver.copy_records_to_table(
            kind.version_table.__table__.name, records=versions, columns=[kind.key, *_VERSION_COLUMNS]
        )
        await outbox.add_deferred(
            session,
            renderer_name(kind),
            kind.registered.topic,
            [version[0] for version in versions],
            {"import_id": str(import_id), "at": ordered[0]["updated_at"].isoformat()},
        )
    return ordered, taken


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
