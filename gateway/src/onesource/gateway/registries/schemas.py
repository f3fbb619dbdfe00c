"""The catalog's registry events as the gateway reads them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

REGISTRY_TOPIC = "onesource.catalog.registry.v1"
ASSIGNED = "gov.onesource.catalog.registry.assigned.v1"


class RegistryDocument(BaseModel):
    """The part of a registry event (``contracts/events/gov.onesource.catalog.registry.assigned.v1``) used here."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="ignore")

    service: str
    """The registry's service name."""
    owner: str
    """The owning department's code."""
    version: int
    """Incremented by every change of owner."""
