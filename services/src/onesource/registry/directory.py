"""What a registry declares about itself for the platform: its catalog resources, demo records, and what it needs.

Each registry package exposes one :class:`Registry` under the ``onesource.registries`` entry point group (in its
``pyproject.toml``); the mesh's seeding finds them with :func:`registries`, so nothing under ``services/`` names a
registry.

A registry that reads other registries' data (one datum, one source across registries) is a client of the platform
like any department's system: it declares its own client (:class:`RegistryClient`), the share requests it makes
(:class:`ShareRequest`) and the resources whose changes it takes (``subscriptions``); the platform's operators — or
the local mesh's seeding — create that client in the owning department, ask for those shares, subscribe, and give the
registry its client's credentials (``RegistrySettings.platform``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol

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
class RegistryClient:
    """The registry's own client system of the platform, in its owning department."""

    client_id: str
    name: str
    roles: tuple[str, ...] = ("consumer",)


@dataclass(frozen=True)
class ShareRequest:
    """A share the registry asks for, as its own client (``POST /api/exchange/v1/share-requests``)."""

    resource: str
    fields: tuple[str, ...]
    purpose: str
    """The purpose the registry states on its data calls under the grant (they must match)."""
    legal_basis: str | None = None


class PlatformReader(Protocol):
    """Reads through the gateway as the registry's own client: the JSON answer of ``GET path`` with ``purpose``."""

    def __call__(self, path: str, *, purpose: str, params: Mapping[str, Any] | None = None) -> Any:
        """The JSON answer of ``GET {gateway}{path}`` (``path`` starts with ``/api/<service>``)."""
        ...


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
    """How many records ``demo`` (or ``platform_demo``) registers."""
    seeded_probe: str | None = None
    """A list path (registry's own) whose first page has items once the demo records are there."""
    client: RegistryClient | None = None
    """Its own client of the platform, if it reads other registries' data."""
    share_requests: tuple[ShareRequest, ...] = ()
    """The shares its client asks for."""
    subscriptions: tuple[str, ...] = ()
    """Resources whose change events its client subscribes to, delivered on the owner's Kafka delivery topic."""
    platform_demo: Callable[[int, PlatformReader], Iterator[DemoBatch]] | None = None
    """Synthetic records made from other registries' demo data, read through the gateway as its own client under
    its grants (so they are seeded after the registries with a plain ``demo``); ``None`` when it has none."""


def registries() -> list[Registry]:
    """Every installed registry, in service-name order."""
    found = [entry.load() for entry in entry_points(group=ENTRY_POINT_GROUP)]
    for registry in found:
        if not isinstance(registry, Registry):
            raise TypeError(f"the {ENTRY_POINT_GROUP} entry point {registry!r} is not a Registry")
    return sorted(found, key=lambda registry: registry.service)
