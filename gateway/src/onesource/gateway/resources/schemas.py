"""Shapes of catalog resources as the gateway reads them: the catalog's event documents, and the in-memory entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RESOURCE_TOPIC = "onesource.catalog.resource.v1"
PUBLISHED = "gov.onesource.catalog.resource.published.v1"
CHANGED = "gov.onesource.catalog.resource.changed.v1"
RETIRED = "gov.onesource.catalog.resource.retired.v1"

ResourceStatus = Literal["draft", "published", "retired"]
#: How the registry's answers on a resource's paths are masked (DESIGN.md "Answer shapes").
Shape = Literal["record", "geojson", "sdmx"]


class ResourceFieldDocument(BaseModel):
    """One field of a resource; only its name matters here."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="ignore")

    name: str
    """The field's name in the registry's records."""


class ResourceDocument(BaseModel):
    """The part of a catalog resource document (``contracts/events/gov.onesource.catalog.resource.*``) used here."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="ignore")

    id: str
    """Readable slug, e.g. ``population.person``."""
    version: int
    """Incremented by every change."""
    status: ResourceStatus
    """draft → published → retired."""
    provider: str
    """The providing department's code."""
    service: str | None
    """The registry service serving it."""
    paths: list[str]
    """Path templates on ``service`` it covers."""
    key: str | None
    """The record-key field."""
    shape: Shape = "record"
    """What the registry answers on ``paths`` (documents from before shapes are records)."""
    fields: list[ResourceFieldDocument]
    """The information items."""
    filters: dict[str, list[str]] = Field(default_factory=dict)
    """Query parameters of ``paths`` that select by fields of other names, each with those fields."""


@dataclass(frozen=True, slots=True)
class Resource:
    """A published resource as the data path needs it."""

    id: str
    version: int
    provider: str
    service: str
    paths: tuple[str, ...]
    key: str | None
    fields: frozenset[str]
    shape: Shape = "record"
    filters: tuple[tuple[str, frozenset[str]], ...] = ()
    """Query parameters selecting by fields of other names, each with the fields it needs granted."""
