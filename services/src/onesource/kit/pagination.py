"""Cursor pagination shared by every list: ``?limit=&cursor=`` → ``{"items", "next_cursor"}``, hard maximum limit."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from onesource.kit.errors import ServiceError

MAX_LIMIT = 200
DEFAULT_LIMIT = 50

Item = TypeVar("Item")


class InvalidCursor(ServiceError):
    """The cursor was not produced by this API (422)."""

    status = 422
    type = "invalid-cursor"
    title = "Invalid cursor"


class Page(BaseModel, Generic[Item]):
    """One page of a list."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[Item]
    """The entries of this page, in key order."""
    next_cursor: str | None
    """Pass as ``cursor`` to get the next page; ``null`` on the last page."""


@dataclass(frozen=True)
class Slice(Generic[Item]):
    """One page of rows as the service layer returns it (validated into :class:`Page` by the router)."""

    items: list[Item]
    next_cursor: str | None


def cut(rows: Sequence[Item], limit: int, key: Callable[[Item], str]) -> Slice[Item]:
    """The first ``limit`` of ``rows`` (fetched with ``limit + 1``) and the cursor after them, if more exist."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return Slice(items=items, next_cursor=encode_cursor(key(items[-1])) if more and items else None)


def encode_cursor(last_key: str) -> str:
    """An opaque cursor pointing after ``last_key``."""
    return base64.urlsafe_b64encode(last_key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The key a cursor points after; :class:`InvalidCursor` when it is not one of ours."""
    if cursor is None:
        return None
    try:
        key = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
        if not key:
            raise ValueError("empty cursor")
        return key
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _invalid_cursor() from None


def _invalid_cursor() -> InvalidCursor:
    return InvalidCursor(
        "the cursor is not valid; pass the next_cursor of a previous page",
        invalid_params=[{"name": "query.cursor", "reason": "not a cursor issued by this API"}],
    )


def _json_key(value: Any) -> Any:
    if isinstance(value, datetime | date | uuid.UUID):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    return value


KeyColumn = ColumnElement[Any] | QueryableAttribute[Any]
"""A column of a keyset: a Core column or an ORM attribute."""


def _typed_key(column: KeyColumn, value: Any) -> Any:
    """A cursor's JSON value as the column's Python type (what the driver binds)."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is int and isinstance(value, int) and not isinstance(value, bool):
        if not -(2**63) <= value < 2**63:  # a bigint: anything larger is no key of ours
            raise ValueError(f"{value} is out of range")
        return value
    if isinstance(value, python_type) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a {python_type.__name__}")
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    raise ValueError(f"{value!r} is not a {python_type.__name__}")


def _after(order: Sequence[KeyColumn], keys: Sequence[Any], descending: bool) -> ColumnElement[bool]:
    """Rows after ``keys`` in the order of ``order`` (a keyset condition; NULL keys are not supported)."""
    clauses = []
    for position, column in enumerate(order):
        beyond = column < keys[position] if descending else column > keys[position]
        clauses.append(and_(*(order[i] == keys[i] for i in range(position)), beyond))
    return or_(*clauses)


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    *,
    order: Sequence[KeyColumn],
    limit: int,
    cursor: str | None,
    descending: bool = False,
    rows: bool = False,
) -> Slice[Any]:
    """One page of ``statement`` in keyset order: ``limit`` results after the ``cursor`` of the previous page.

    ``order`` are the columns that order the results and identify each one (the last one unique, such as the primary
    key); the cursor holds their values of the page's last result. The statement returns ORM entities (``rows=False``)
    or rows whose mapping holds the ``order`` columns (``rows=True``).
    """
    statement = statement.order_by(*(column.desc() if descending else column for column in order))
    if cursor is not None:
        try:
            keys = json.loads(decode_cursor(cursor) or "")
            if not isinstance(keys, list) or len(keys) != len(order):
                raise ValueError("a cursor of another list")
            typed = [_typed_key(column, key) for column, key in zip(order, keys, strict=True)]
        except ValueError:
            raise _invalid_cursor() from None
        statement = statement.where(_after(order, typed, descending))
    statement = statement.limit(limit + 1)
    found = (await session.execute(statement)).all() if rows else (await session.scalars(statement)).all()
    names = [str(column.key) for column in order]

    def key(result: Any) -> str:
        values = [result._mapping[column] for column in order] if rows else [getattr(result, n) for n in names]
        return _keyset(values)

    return cut(found, limit, key)


def _keyset(values: Sequence[Any]) -> str:
    return json.dumps([_json_key(value) for value in values], ensure_ascii=False, separators=(",", ":"))


def cursor_after(values: Sequence[Any]) -> str:
    """The cursor :func:`paginate` gives after a result whose ``order`` columns hold ``values``.

    For a list read in several keyset statements (one after another, each ordered by the same columns), whose
    page may end exactly where one statement's results do.
    """
    return encode_cursor(_keyset(values))


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")]
Cursor = Annotated[str | None, Query(max_length=512, description="The `next_cursor` of the previous page.")]
