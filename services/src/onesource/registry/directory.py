"""What a registry declares about itself for the platform: its catalog resources and its demo records.

Each registry package exposes one :class:`Registry` under the ``onesource.registries`` entry point group (in its
``pyproject.toml``); the mesh's seeding finds them with :func:`registries`, so nothing under ``services/`` names a
registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINT_GROUP = "onesource.registries"


@dataclass(frozen=True)
class DemoBatch:
    """One request, sent by a registrar of the owner, that registers synthetic records."""

    path: str
    """The registry's own path (the gateway's is ``/api/<service><path>``), such as ``/v1/imports``."""
    content: bytes
    media_type: str
    records: int
    """How many records it registers (for progress)."""


@dataclass(frozen=True)
class Registry:
    """A registry as the platform knows it."""

    service: str
    """Its service name (the gateway's ``/api/<service>/…``)."""
    owner: str
    """The department that owns it in the demo mesh (its own setting says who owns it where it runs)."""
    resources: Callable[[str], list[dict[str, Any]]]
    """Its catalog resources as ``POST /v1/resources`` bodies, given the providing department."""
    demo: Callable[[int], Iterator[DemoBatch]] | None = None
    """Synthetic records for the demo mesh, from a seed; ``None`` when it seeds none."""
    demo_records: int = 0
    """How many records ``demo`` registers."""
    seeded_probe: str | None = None
    """A list path (registry's own) whose first page has items once the demo records are there."""


def registries() -> list[Registry]:
    """Every installed registry, in service-name order."""
    found = [entry.load() for entry in entry_points(group=ENTRY_POINT_GROUP)]
    for registry in found:
        if not isinstance(registry, Registry):
            raise TypeError(f"the {ENTRY_POINT_GROUP} entry point {registry!r} is not a Registry")
    return sorted(found, key=lambda registry: registry.service)
