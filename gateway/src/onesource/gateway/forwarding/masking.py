"""Masking an answer to the grants that allow it: only granted fields, only records in a grant's row scope.

The same rules as the exchange's projector (the row-scope rule is shared: ``onesource.registry.shapes.scope``), so a
department sees a record through the gateway exactly as its subscription delivers it:

- a row scope (``{"household_region_code": ["1101", "1102"]}``) covers a record when, for every listed field, the
  record's value as text starts with one of the prefixes; a missing or null field is out; no scope covers all;
- scopes are evaluated on the unmasked record, so a field may scope rows without being returned;
- a record is returned with the union of the fields of every grant whose scope covers it, and not at all when
  none does; record metadata (``version``, ``created_at``, ``updated_at``) is never returned;
- a list is ``{"items": [...], "next_cursor": ...}``; anything else in it, or any item that is not a record, is
  dropped: what is not understood is not returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from onesource.gateway.forwarding.errors import UnmaskableAnswer
from onesource.gateway.grants.schemas import Grant
from onesource.registry.shapes.scope import as_text, in_scope

#: Record metadata: how the owner keeps the record, not data shared under a grant.
METADATA_FIELDS = frozenset({"version", "created_at", "updated_at"})


@dataclass(frozen=True, slots=True)
class Masked:
    """A masked answer and what the audit entry says about it."""

    body: dict[str, Any]
    page: bool
    """Whether ``body`` is a page of records (``{"items", "next_cursor"}``) rather than one record."""
    record_keys: tuple[str, ...]
    """Keys of the records returned (read from the unmasked records, whether or not the key was granted)."""
    fields: tuple[str, ...]
    """The fields returned, sorted."""
    grant_ids: tuple[str, ...]
    """The grants that let at least one returned record through, sorted."""


class Mask:
    """What one caller's matching grants let through; built per call, applied to every record of the answer."""

    def __init__(self, grants: Iterable[Grant], key_fields: Sequence[str]) -> None:
        self._open_fields: frozenset[str] = frozenset()
        self._open_ids: list[str] = []
        self._scoped: list[tuple[str, Mapping[str, tuple[str, ...]], frozenset[str]]] = []
        for grant in grants:
            if grant.row_scope:
                self._scoped.append((grant.id, grant.row_scope, grant.fields - METADATA_FIELDS))
            else:
                self._open_fields |= grant.fields
                self._open_ids.append(grant.id)
        self._open_fields -= METADATA_FIELDS
        self._key_fields = tuple(key_fields)

    @property
    def row_scoped(self) -> bool:
        """Whether some record may be left out (a grant with a row scope and none without)."""
        return not self._open_ids

    def fields_for(self, record: Mapping[str, Any], grant_ids: set[str]) -> frozenset[str] | None:
        """The fields of the grants covering ``record`` (their ids added to ``grant_ids``); ``None``: none covers it."""
        fields = self._open_fields
        allowed = bool(self._open_ids)
        if allowed:
            grant_ids.update(self._open_ids)
        for grant_id, scope, granted in self._scoped:
            if in_scope(record, scope):
                fields = fields | granted
                grant_ids.add(grant_id)
                allowed = True
        return fields if allowed else None

    def record(self, record: Mapping[str, Any], grant_ids: set[str]) -> dict[str, Any] | None:
        """``record`` with only the fields of the grants covering it, or ``None`` when no grant covers it.

        The ids of the covering grants are added to ``grant_ids``.
        """
        fields = self.fields_for(record, grant_ids)
        if fields is None:
            return None
        return {name: value for name, value in record.items() if name in fields}

    def key_of(self, record: Mapping[str, Any]) -> str | None:
        """The record's key: the value of the first key field of the covering resources that it has."""
        for name in self._key_fields:
            value = record.get(name)
            if value is not None:
                return as_text(value)
        return None

    def apply(self, document: Any) -> Masked | None:
        """Mask a parsed answer: a list or one record; ``None`` when it is one record no grant covers."""
        grant_ids: set[str] = set()
        keys: list[str] = []
        fields: set[str] = set()
        if not isinstance(document, dict):
            raise UnmaskableAnswer("the service answered JSON that is neither a record nor a list of records")
        items = document.get("items")
        if isinstance(items, list) and "next_cursor" in document:
            kept: list[dict[str, Any]] = []
            for item in items:
                if not isinstance(item, dict):
                    continue
                masked = self.record(item, grant_ids)
                if masked is None:
                    continue
                kept.append(masked)
                fields.update(masked)
                if (key := self.key_of(item)) is not None:
                    keys.append(key)
            body: dict[str, Any] = {"items": kept, "next_cursor": document["next_cursor"]}
            page = True
        else:
            masked = self.record(document, grant_ids)
            if masked is None:
                return None
            body, page = masked, False
            fields.update(masked)
            if (key := self.key_of(document)) is not None:
                keys.append(key)
        return Masked(
            body=body,
            page=page,
            record_keys=tuple(keys),
            fields=tuple(sorted(fields)),
            grant_ids=tuple(sorted(grant_ids)),
        )
