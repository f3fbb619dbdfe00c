"""API shapes of registries: the owner assignment and the registry as the API and its events show it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from onesource.catalog.resources.schemas import DEPARTMENT_PATTERN, SERVICE_PATTERN

ServiceName = Annotated[str, StringConstraints(pattern=SERVICE_PATTERN)]


class RegistryAssignment(BaseModel):
    """Which department owns a registry's data."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    owner: Annotated[str, StringConstraints(pattern=DEPARTMENT_PATTERN)] = Field(examples=["psb"])
    """The owning department's code: only its stewards describe the registry's paths and topics."""


class Registry(BaseModel):
    """A registry service and the one department that owns its data (一数一源)."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    service: str = Field(examples=["population"])
    """The registry's service name, as in ``/api/<service>/…`` and a resource's ``service``."""
    owner: str = Field(examples=["psb"])
    """The owning department's code."""
    version: int
    """Incremented by every change of owner (also the ``ETag``)."""
    updated_by: str
    """The admin client that made this version."""
    updated_at: datetime
    """When this version was made."""
