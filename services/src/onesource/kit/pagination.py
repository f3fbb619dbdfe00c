"""Cursor pagination shared by every list: ``?limit=&cursor=`` → ``{"items", "next_cursor"}``, hard maximum limit."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict

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
        raise InvalidCursor(
            "the cursor is not valid; pass the next_cursor of a previous page",
            invalid_params=[{"name": "query.cursor", "reason": "not a cursor issued by this API"}],
        ) from None


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")]
Cursor = Annotated[str | None, Query(max_length=512, description="The `next_cursor` of the previous page.")]
