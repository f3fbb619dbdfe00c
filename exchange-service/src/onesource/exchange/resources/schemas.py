"""The catalog's resource document, as its events and ``GET /v1/resources/{id}`` carry it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ShareType = Literal["unconditional", "conditional", "not_shared"]


class ResourceField(BaseModel):
    """One field (信息项) of a resource; only its name matters to the exchange."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="allow")

    name: str = Field(min_length=1)
    """The field's name in records and API answers."""


class ResourceDocument(BaseModel):
    """A catalog resource (信息资源): who provides it, how it is shared, its fields and its source topic."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="allow")

    id: str = Field(min_length=1)
    """Readable slug, e.g. ``population.person``."""
    provider: str = Field(min_length=1)
    """Code of the department that owns the resource."""
    share_type: ShareType
    """``unconditional``, ``conditional`` or ``not_shared``."""
    status: str
    """``draft``, ``published`` or ``retired``."""
    version: int
    """Catalog version; only the latest is kept."""
    fields: list[ResourceField] = Field(default_factory=list)
    """The resource's fields."""
    topic: str | None = None
    """The registry's source topic of change events."""
    legal_basis: str | None = None
    """Why the resource is not shared (for ``not_shared``)."""
    share_condition: str | None = None
    """The condition of sharing (for ``conditional``)."""


class RegistryDocument(BaseModel):
    """A registry and its owning department, as the catalog's ``registry.assigned`` events carry it."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="ignore")

    service: str = Field(min_length=1)
    """The registry's service name (its source topics are ``onesource.<service>.…``)."""
    owner: str = Field(min_length=1)
    """The owning department's code."""
    version: int
    """Catalog version of the registry; only the latest is kept."""
