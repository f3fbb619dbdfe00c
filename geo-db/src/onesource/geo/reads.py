"""Spatial lists on the read pool: one prepared statement, one round trip, no session, transaction or ORM.

The searches (point in parcel, nearby, box) are the registry's hottest reads. Through a session each cost a
``BEGIN``/``COMMIT`` around the query, a new SQLAlchemy statement built and compiled per request, and ORM objects
per row — several times the query itself, which the GiST indexes answer in well under a millisecond. Here each
shape of search (which filters it has, whether it continues from a cursor) is built and compiled once, with bind
parameters for every value, and run on a read connection (``kit.db.ReadDep``) with the request's values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from onesource.kit.db import Reader
from onesource.kit.pagination import InvalidCursor, Slice, cut, decode_cursor

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Prepared:
    """A statement compiled for asyncpg: its SQL (``$1`` …) and the names of its bind parameters in that order."""

    sql: str
    names: tuple[str, ...]
    defaults: Mapping[str, Any]
    """Values of the bind parameters the statement itself set (literals such as an SRID or a status)."""

    @classmethod
    def of(cls, statement: Select[Any]) -> Prepared:
        """``statement`` compiled (once: its values are bind parameters)."""
        compiled = statement.compile(dialect=_DIALECT)
        defaults = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
        return cls(str(compiled), tuple(compiled.positiontup or ()), defaults)

    async def fetch(self, connection: Reader, values: Mapping[str, Any]) -> list[asyncpg.Record]:
        """The rows of the statement with ``values`` for its bind parameters (by name)."""
        arguments = (values[name] if name in values else self.defaults[name] for name in self.names)
        return list(await connection.fetch(self.sql, *arguments))


def after(order: Sequence[ColumnElement[Any]], keys: Sequence[ColumnElement[Any]]) -> ColumnElement[bool]:
    """Rows after ``keys`` (bind parameters) in the ascending order of ``order``: the keyset condition of a page."""
    return or_(
        *(
            and_(*(order[i] == keys[i] for i in range(position)), order[position] > keys[position])
            for position in range(len(order))
        )
    )


def _invalid_cursor() -> InvalidCursor:
    return InvalidCursor(
        "the cursor is not valid; pass the next_cursor of a previous page",
        invalid_params=[{"name": "query.cursor", "reason": "not a cursor issued by this API"}],
    )


def cursor_keys(cursor: str | None, types: Sequence[type]) -> list[Any] | None:
    """The keys of the last row of the previous page (as ``page`` wrote them), checked against ``types``."""
    text = decode_cursor(cursor)
    if text is None:
        return None
    try:
        keys = json.loads(text)
    except ValueError:
        raise _invalid_cursor() from None
    if not isinstance(keys, list) or len(keys) != len(types):
        raise _invalid_cursor()
    typed = []
    for key, kind in zip(keys, types, strict=True):
        if kind is float and isinstance(key, int) and not isinstance(key, bool):
            key = float(key)
        if not isinstance(key, kind) or isinstance(key, bool):
            raise _invalid_cursor()
        typed.append(key)
    return typed


def page(rows: Sequence[asyncpg.Record], limit: int, order: Sequence[str]) -> Slice[asyncpg.Record]:
    """The first ``limit`` rows (fetched with ``limit + 1``) and the cursor after them (the ``order`` columns)."""
    return cut(
        rows,
        limit,
        lambda row: json.dumps([row[name] for name in order], ensure_ascii=False, separators=(",", ":")),
    )
