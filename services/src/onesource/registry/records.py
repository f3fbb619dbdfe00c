"""Versioned records keyed by a standard identifier: register, change, lifecycle transitions, history.

A registry declares each kind of record once (:class:`RecordKind`): its table, its version table (with the columns
of :class:`RecordVersionColumns`), its API shape, the fields its events and history carry, and its events. The
functions below then do what every registry does alike, inside the request's transaction (they never commit):

- every change is a new version — the whole record's version number goes up by one, a version row records what
  changed, who changed it and when — and its event is written to the outbox with it;
- a change names the version it was based on (``If-Match``): another version is 412;
- the history answers every version with the whole record as it then was, in cursor pages.

What changes are allowed, and which rules a changed record must pass, stay the registry's: it computes the changes
and checks them before calling :func:`apply_change`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import asyncpg
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Select, String, bindparam, func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from onesource.kit import outbox
from onesource.kit.auth import Principal
from onesource.kit.concurrency import check_version
from onesource.kit.db import Reader, driver_connection, json_text
from onesource.kit.errors import ServiceError
from onesource.kit.pagination import Slice, cut, decode_cursor
from onesource.kit.telemetry import request_id_var
from onesource.registry.events import RecordChanged, RecordEvent, RecordRegistered

Row = TypeVar("Row")


class RecordVersionColumns:
    """The columns of a registry's version table.

    The table declares the record key itself (named as in the record table) and its primary key (key, version).
    """

    version: Mapped[int]
    change: Mapped[str] = mapped_column(String(16))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())
    recorded_by: Mapped[str] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(String(64))


class RecordVersion(BaseModel):
    """One version of a record: what changed, who changed it, when, and the record as it then was."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    version: int
    """Version number, from 1."""
    change: str
    """What happened (``registered``, ``updated``, or the registry's lifecycle verb)."""
    changes: dict[str, Any]
    """Fields set by this version with their values (every field at registration)."""
    recorded_at: datetime
    """When the change was committed."""
    recorded_by: str
    """Client that made the change."""
    department: str
    """Department the client acted for."""
    record: dict[str, Any]
    """The whole record as of this version."""


@dataclass(frozen=True)
class RecordKind(Generic[Row]):
    """One kind of record of a registry, declared once."""

    table: type[Row]
    """The table of records as they stand (with ``version``, ``created_at`` and ``updated_at`` columns)."""
    version_table: type[Any]
    """The table of versions (:class:`RecordVersionColumns` and the key column, named as in ``table``)."""
    key: str
    """The key's column and field name (``id_number``, ``uscc`` …)."""
    shape: type[BaseModel]
    """The API shape of a record (``from_attributes``); its ``record_fields`` are what events and history carry."""
    record_fields: Sequence[str]
    registered: type[RecordRegistered]
    updated: type[RecordChanged]
    not_found: Callable[[str], ServiceError]
    """The 404 for a key no record has."""
    duplicate: Callable[[str], ServiceError]
    """The 409 for a registration of a key that is taken."""
    version_shape: type[RecordVersion] = RecordVersion
    """The API shape of a version (a registry whose version rows hold more says so in a subclass)."""
    normalise_key: Callable[[str], str] = str
    """How a key from a path is spelled in the table (``str.upper`` for a citizen ID's ``x``)."""
    unwritten_first_version: Callable[[asyncpg.Connection, Row], Awaitable[dict[str, Any] | None]] | None = None
    """For registries that load records in bulk without a version row each: the columns of the version row a
    record's first version would have had, while the record still holds it (written out on its first change)."""

    @functools.cached_property
    def by_key(self) -> str:
        """SQL of the record with the key ``$1``, as a row of the table's columns, for asyncpg."""
        table = self.table.__table__  # type: ignore[attr-defined]
        statement = select(table).where(table.c[self.key] == bindparam("key"))
        return str(statement.compile(dialect=asyncpg_dialect()))  # type: ignore[no-untyped-call]

    @functools.cached_property
    def for_update(self) -> str:
        """SQL of the record with the key ``$1``, locked until the transaction ends, for asyncpg."""
        table = self.table.__table__  # type: ignore[attr-defined]
        statement = select(table).where(table.c[self.key] == bindparam("key")).with_for_update()
        return str(statement.compile(dialect=asyncpg_dialect()))  # type: ignore[no-untyped-call]

    @functools.cached_property
    def attributes(self) -> dict[str, str]:
        """Column name → attribute name of the record table."""
        mapper: Mapper[Any] = sa_inspect(self.table)  # type: ignore[assignment]  # a mapped class has one
        return {attribute.columns[0].name: attribute.key for attribute in mapper.column_attrs}

    def row_of(self, columns: Mapping[str, Any]) -> Row:
        """A record row (not in any session) holding ``columns``, as a registry's rules read records."""
        return self.table(**{self.attributes[name]: value for name, value in columns.items()})

    def record_of(self, row: Row) -> dict[str, Any]:
        """The record's fields, JSON-ready, as events and history carry them (no bookkeeping columns)."""
        return self.shape.model_validate(row).model_dump(mode="json", include=set(self.record_fields))

    def key_of(self, row: Row) -> str:
        """The record's key."""
        return str(getattr(row, self.key))


async def read(connection: Reader, kind: RecordKind[Row], key: str) -> BaseModel:
    """The record with ``key`` in its API shape, by one statement on the reader (``ReadDep``); else the kind's 404."""
    row = await connection.fetchrow(kind.by_key, kind.normalise_key(key))
    if row is None:
        raise kind.not_found(key)
    return kind.shape.model_validate(dict(row))


async def get(session: AsyncSession, kind: RecordKind[Row], key: str, *, for_update: bool = False) -> Row:
    """The record with ``key`` (locked until the transaction ends when ``for_update``); the kind's 404 otherwise."""
    row = await session.get(
        kind.table, kind.normalise_key(key), with_for_update=for_update, populate_existing=for_update
    )
    if row is None:
        raise kind.not_found(key)
    return row


async def _now(session: AsyncSession) -> datetime:
    """The transaction's timestamp (every row a transaction writes carries the same one)."""
    return (await session.execute(select(func.now()))).scalar_one()


def _add_version(
    session: AsyncSession, kind: RecordKind[Row], row: Row, change: str, changes: dict[str, Any], by: Principal
) -> None:
    session.add(
        kind.version_table(
            **{kind.key: kind.key_of(row)},
            version=getattr(row, "version"),  # noqa: B009 - every record table has one
            change=change,
            changes=changes,
            recorded_at=getattr(row, "updated_at"),  # noqa: B009
            recorded_by=by.client_id,
            department=by.department,
            request_id=request_id_var.get(),
        )
    )


async def register(session: AsyncSession, kind: RecordKind[Row], values: dict[str, Any], by: Principal) -> Row:
    """Insert a new record (version 1) with its first version and its ``registered`` event.

    The kind's 409 when the key is taken (race-safe: a concurrent registration of the same key loses).
    """
    statement = (
        insert(kind.table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[kind.key])
        .returning(kind.table)
        .execution_options(populate_existing=True)
    )
    row = (await session.scalars(statement)).first()
    if row is None:
        raise kind.duplicate(str(values[kind.key]))
    _registered(session, kind, row, by)
    return row


async def register_on(
    connection: asyncpg.Connection, kind: RecordKind[Row], values: dict[str, Any], by: Principal
) -> tuple[BaseModel, int]:
    """:func:`register` on a plain connection in the caller's transaction (a session's: ``driver_connection``).

    The same row, first version and ``registered`` event, by three statements whose SQL is built once per set of
    fields: SQLAlchemy compiles a PostgreSQL ``INSERT … ON CONFLICT`` anew on every execution (it has no cache key),
    which was most of a registration's time. Answers the record in its API shape and its version. Not for columns
    that need SQL around their values (geometry): those kinds use :func:`register`.
    """
    table = kind.table.__table__  # type: ignore[attr-defined]
    names = tuple(values)
    found = await connection.fetchrow(_register_statement(table, kind.key, names), *_parameters(table, names, values))
    if found is None:
        raise kind.duplicate(str(values[kind.key]))
    columns = dict(found)
    shaped = kind.shape.model_validate(columns)
    record = shaped.model_dump(mode="json", include=set(kind.record_fields))
    await _versioned_on(connection, kind, columns, "registered", record, by)
    await outbox.write(connection, kind.registered(record=record))
    return shaped, columns["version"]


async def _versioned_on(
    connection: asyncpg.Connection,
    kind: RecordKind[Row],
    columns: Mapping[str, Any],
    change: str,
    changes: dict[str, Any],
    by: Principal,
) -> None:
    """The version row of the change that left the record's row as ``columns`` (as :func:`_add_version` adds)."""
    version = {
        kind.key: columns[kind.key],
        "version": columns["version"],
        "change": change,
        "changes": changes,
        "recorded_at": columns["updated_at"],
        "recorded_by": by.client_id,
        "department": by.department,
        "request_id": request_id_var.get(),
    }
    await _insert(connection, kind.version_table, version)


#: Records one statement of :func:`register_many` inserts at most (PostgreSQL binds at most 65,535 parameters).
_MANY = 1000


async def register_many(
    session: AsyncSession, kind: RecordKind[Row], many: Sequence[dict[str, Any]], by: Principal
) -> tuple[list[Row], list[str]]:
    """:func:`register` for many records with distinct keys at once (a bulk import's block).

    The same rows, versions and events as :func:`register` writes, by a few statements instead of one per record.
    Every ``values`` has the same fields. Returns the registered records in the order given, and the keys that were
    taken already (registered by no one here; race-safe like :func:`register`).
    """
    registered: dict[str, Row] = {}
    for start in range(0, len(many), _MANY):
        statement = (
            insert(kind.table)
            .values(list(many[start : start + _MANY]))
            .on_conflict_do_nothing(index_elements=[kind.key])
            .returning(kind.table)
            .execution_options(populate_existing=True)
        )
        for row in await session.scalars(statement):
            registered[kind.key_of(row)] = row
    ordered = [registered[key] for values in many if (key := str(values[kind.key])) in registered]
    for row in ordered:
        _registered(session, kind, row, by)
    return ordered, [str(values[kind.key]) for values in many if str(values[kind.key]) not in registered]


def _registered(session: AsyncSession, kind: RecordKind[Row], row: Row, by: Principal) -> None:
    """The first version and the ``registered`` event of a record just inserted."""
    record = kind.record_of(row)
    _add_version(session, kind, row, "registered", record, by)
    outbox.add(session, kind.registered(record=record))


async def apply_change(
    session: AsyncSession,
    kind: RecordKind[Row],
    row: Row,
    *,
    change: str,
    values: dict[str, Any],
    event: type[RecordEvent],
    by: Principal,
) -> Row:
    """Set ``values`` (typed column values) on a record loaded ``for_update``, as a new version with its event.

    The registry has checked the change against its rules and the record's version. The version and the event
    carry the fields set, JSON-ready, as ``changes``.
    """
    if kind.unwritten_first_version is not None:
        first = await kind.unwritten_first_version(await driver_connection(session), row)
        if first is not None:  # the version the row held, kept in the history before the row changes
            session.add(kind.version_table(**first))
    for name, value in values.items():
        setattr(row, name, value)
    setattr(row, "version", getattr(row, "version") + 1)  # noqa: B009, B010
    setattr(row, "updated_at", await _now(session))  # noqa: B010
    record = kind.record_of(row)
    changes = {name: record[name] for name in values if name in record}
    _add_version(session, kind, row, change, changes, by)
    payload = event(record=record, changes=changes) if issubclass(event, RecordChanged) else event(record=record)
    outbox.add(session, payload)
    return row


async def change_fields(
    session: AsyncSession,
    kind: RecordKind[Row],
    key: str,
    *,
    patch: dict[str, Any],
    expected_version: int | None,
    by: Principal,
    check: Callable[[Row, dict[str, Any]], dict[str, Any]],
) -> Row:
    """A JSON merge patch of a record at the version the caller read: 404, 412 (stale), or the registry's refusals.

    ``patch`` holds the fields the caller set, JSON-ready. ``check(row, changes)`` gets those that really change
    and answers the typed values to set (it may add fields a change implies, and raises the registry's 409 or 422);
    a patch that changes nothing makes no version and no event.
    """
    row = await get(session, kind, key, for_update=True)  # the row lock serialises concurrent changes
    check_version(getattr(row, "version"), expected_version)  # noqa: B009
    current = kind.record_of(row)
    changes = {name: value for name, value in patch.items() if current.get(name) != value}
    if not changes:
        return row
    values = check(row, changes)
    return await apply_change(session, kind, row, change="updated", values=values, event=kind.updated, by=by)


async def change_fields_on(
    connection: asyncpg.Connection,
    kind: RecordKind[Row],
    key: str,
    *,
    patch: dict[str, Any],
    expected_version: int | None,
    by: Principal,
    check: Callable[[Row, dict[str, Any]], dict[str, Any]],
) -> tuple[BaseModel, int]:
    """:func:`change_fields` on a plain connection in the request's transaction (``WriteDep``), without the ORM.

    Answers the record in its API shape and its version. A few statements instead of the ORM's unit of work;

    the same rows and event as :func:`change_fields`: the row locked, the version checked, the registry's
    ``check``, the first version written out if the row still holds it, the row changed with its version and time
    (the transaction's), a version row, and the ``updated`` event in the outbox.
    """
    found = await connection.fetchrow(kind.for_update, kind.normalise_key(key))
    if found is None:
        raise kind.not_found(key)
    columns = dict(found)
    check_version(columns["version"], expected_version)
    current = kind.shape.model_validate(columns)
    record = current.model_dump(mode="json", include=set(kind.record_fields))
    changes = {name: value for name, value in patch.items() if record.get(name) != value}
    if not changes:
        return current, columns["version"]
    row = kind.row_of(columns)
    values = check(row, changes)
    if kind.unwritten_first_version is not None:
        first = await kind.unwritten_first_version(connection, row)
        if first is not None:  # the version the row held, kept in the history before the row changes
            await _insert(connection, kind.version_table, first)
    names = tuple(values)
    table = kind.table.__table__  # type: ignore[attr-defined]
    changed = await connection.fetchrow(
        _update_statement(table, kind.key, names), columns[kind.key], *_parameters(table, names, values)
    )
    assert changed is not None  # the row is locked by this transaction
    columns = dict(changed)
    shaped = kind.shape.model_validate(columns)
    record = shaped.model_dump(mode="json", include=set(kind.record_fields))
    changes = {name: record[name] for name in values if name in record}
    await _versioned_on(connection, kind, columns, "updated", changes, by)
    await outbox.write(connection, kind.updated(record=record, changes=changes))
    return shaped, columns["version"]


def _placeholder(table: Any, name: str, number: int) -> str:
    """``$n``, cast from text for a JSON column (its value goes as JSON text, whatever codec the connection has)."""
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        return f"${number}::text::{'jsonb' if isinstance(column_type, JSONB) else 'json'}"
    return f"${number}"


def _parameters(table: Any, names: Sequence[str], values: Mapping[str, Any]) -> list[Any]:
    return [json_text(values[name]) if isinstance(table.c[name].type, JSON) else values[name] for name in names]


@functools.lru_cache(maxsize=256)
def _update_statement(table: Any, key: str, names: tuple[str, ...]) -> str:
    """SQL setting ``names`` (``$2``…) of the record keyed ``$1`` as its next version, at the transaction's time."""
    assignments = ", ".join(f'"{name}" = {_placeholder(table, name, number)}' for number, name in enumerate(names, 2))
    return (
        f'UPDATE "{table.name}" SET {assignments}, version = version + 1, updated_at = now()'
        f' WHERE "{key}" = $1 RETURNING *'
    )


@functools.lru_cache(maxsize=256)
def _register_statement(table: Any, key: str, names: tuple[str, ...]) -> str:
    """SQL inserting ``names`` (``$1``…) as a new record, nothing when its key is taken, answering the row."""
    return f'{_insert_statement(table, names)} ON CONFLICT ("{key}") DO NOTHING RETURNING *'


@functools.lru_cache(maxsize=256)
def _insert_statement(table: Any, names: tuple[str, ...]) -> str:
    placeholders = ", ".join(_placeholder(table, name, number) for number, name in enumerate(names, 1))
    quoted = ", ".join(f'"{name}"' for name in names)
    return f'INSERT INTO "{table.name}" ({quoted}) VALUES ({placeholders})'


async def _insert(connection: asyncpg.Connection, mapped: type[Any], values: Mapping[str, Any]) -> None:
    table = mapped.__table__
    names = tuple(values)
    await connection.execute(_insert_statement(table, names), *_parameters(table, names, values))


def versions_statement(kind: RecordKind[Row], key: str, up_to: int) -> Select[Any]:
    """The record's version rows up to ``up_to``, oldest first."""
    table = kind.version_table
    return select(table).where(getattr(table, kind.key) == key, table.version <= up_to).order_by(table.version)


async def history(
    session: AsyncSession, kind: RecordKind[Row], key: str, *, limit: int, cursor: str | None
) -> Slice[RecordVersion]:
    """One page of the record's versions, oldest first, each with the whole record as of that version.

    Each version row holds only what it changed, so the record as of a version is folded from the first one.
    """
    row = await get(session, kind, key)
    after = decode_cursor(cursor)
    first = int(after) + 1 if after is not None and after.isdigit() else 1
    rows = list(await session.scalars(versions_statement(kind, kind.key_of(row), first + limit)))
    if kind.unwritten_first_version is not None:
        in_row = await kind.unwritten_first_version(await driver_connection(session), row)
        if in_row is not None:
            rows.insert(0, kind.version_table(**in_row))
    fields = [name for name in kind.version_shape.model_fields if name != "record"]
    record: dict[str, Any] = {}
    page: list[RecordVersion] = []
    for version in rows:
        record = {**record, **version.changes}
        if version.version >= first:
            columns = {name: getattr(version, name) for name in fields}
            page.append(kind.version_shape.model_validate({**columns, "record": record}))
    return cut(page, limit, lambda version: str(version.version))
