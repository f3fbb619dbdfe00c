"""Row scope in share requests and grants: its shape, and its fields checked against the resource's.

What a scope covers is the shared rule of :mod:`onesource.registry.shapes.scope` (the gateway applies the same).
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


def unknown_fields(scope: Mapping[str, Any] | None, fields: Iterable[str]) -> list[str]:
    """Fields named by ``scope`` that are not among ``fields``."""
    known = set(fields)
    return sorted(field for field in (scope or {}) if field not in known)
