"""Row scope: which records of a resource a grant covers, by field-value prefixes.

``{"household_region_code": ["1101", "1102"]}`` covers a record when, for every listed field, the record's
value (as text) starts with one of the prefixes. Evaluated on the unmasked record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import Field, StringConstraints

RowScope = dict[
    Annotated[str, StringConstraints(min_length=1, max_length=200)],
    Annotated[list[Annotated[str, StringConstraints(max_length=200)]], Field(min_length=1, max_length=200)],
]
"""Field name → allowed value prefixes."""


def in_scope(record: Mapping[str, Any], scope: Mapping[str, Iterable[str]] | None) -> bool:
    """Whether ``record`` lies within ``scope`` (no scope: every record); a missing or null field is out."""
    if not scope:
        return True
    for field, prefixes in scope.items():
        value = record.get(field)
        if value is None:
            return False
        text = _as_text(value)
        if not any(text.startswith(prefix) for prefix in prefixes):
            return False
    return True


def _as_text(value: Any) -> str:
    # JSON booleans as the registries write them, not Python's "True".
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def unknown_fields(scope: Mapping[str, Any] | None, fields: Iterable[str]) -> list[str]:
    """Fields named by ``scope`` that are not among ``fields``."""
    known = set(fields)
    return sorted(field for field in (scope or {}) if field not in known)
