"""Series keys: ``Q.330000.GDP.CUR`` identifies a series; a query key selects several (SDMX REST ``{key}``).

A query key has one position per dimension of the structure, separated by dots; an empty position is a wildcard
and ``A+B`` matches either value (``Q..GDP+GDPI.CUR``). ``all`` (or ``*``) selects every series.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

#: What an SDMX code id may be (SDMX 3.0 IDType: letters, digits, ``_``, ``@``, ``$``, ``-``).
_CODE: Final = re.compile(r"^[A-Za-z0-9_@$\-]+$")


class MalformedKey(ValueError):
    """A query key that is not one of the structure's (the message says why)."""


@dataclass(frozen=True, slots=True)
class KeyQuery:
    """Per dimension, the values a series may have (``None``: any)."""

    positions: tuple[frozenset[str] | None, ...]

    def matches(self, values: Sequence[str]) -> bool:
        """Whether a series with these dimension values is selected."""
        return all(allowed is None or value in allowed for allowed, value in zip(self.positions, values, strict=True))


def series_key(values: Sequence[str]) -> str:
    """The key of a series: its dimension values in key order, dot-separated."""
    return ".".join(values)


def parse_query(key: str, dimensions: Sequence[str]) -> KeyQuery:
    """The query key ``key`` against the structure's ``dimensions``; :class:`MalformedKey` when malformed."""
    if key in {"all", "ALL", "*"}:
        return KeyQuery(tuple(None for _ in dimensions))
    parts = key.split(".")
    if len(parts) != len(dimensions):
        raise MalformedKey(
            f"the key has {len(parts)} position(s) but the structure has {len(dimensions)} dimensions "
            f"({'.'.join(dimensions)})"
        )
    positions: list[frozenset[str] | None] = []
    for dimension, part in zip(dimensions, parts, strict=True):
        if part in {"", "*"}:
            positions.append(None)
            continue
        values = part.split("+")
        bad = [value for value in values if not _CODE.match(value)]
        if bad:
            raise MalformedKey(f"{dimension}: {bad[0]!r} is not a code (letters, digits, _ @ $ -)")
        positions.append(frozenset(values))
    return KeyQuery(tuple(positions))
