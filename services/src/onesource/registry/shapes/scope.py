"""The row-scope rule, once for every place that applies it: the gateway's masking, the exchange's projector.

A row scope (``{"household_region_code": ["1101", "1102"]}``) covers a record when, for every listed field, the
record's value as text starts with one of the prefixes; a missing or null field is out; no scope covers every
record. Scopes are evaluated on the unmasked record, so a field may scope rows without being returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

RowScope = Mapping[str, Iterable[str]]
"""Field name → allowed value prefixes."""


def as_text(value: Any) -> str:
    """A record's value as a scope compares it: JSON booleans as the registries write them, not Python's ``True``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def in_scope(record: Mapping[str, Any], scope: RowScope | None) -> bool:
    """Whether ``record`` lies within ``scope`` (no scope: every record); a missing or null field is out."""
    if not scope:
        return True
    for field, prefixes in scope.items():
        value = record.get(field)
        if value is None:
            return False
        if not as_text(value).startswith(tuple(prefixes)):
            return False
    return True
