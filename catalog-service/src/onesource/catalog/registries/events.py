"""Events of the registries domain: the gateway keeps every registry's owner from them."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from onesource.kit.events import DomainEvent

REGISTRY_TOPIC = "onesource.catalog.registry.v1"


class RegistryAssigned(DomainEvent):
    """A registry was given an owner (its first, or another): from then on only that department's resources serve it."""

    event_type: ClassVar[str] = "gov.onesource.catalog.registry.assigned.v1"
    topic: ClassVar[str] = REGISTRY_TOPIC
    source: ClassVar[str] = "/onesource/catalog"

    service: str
    """The registry's service name, as in ``/api/<service>/…`` and a resource's ``service``."""
    owner: str
    """The owning department's code."""
    version: int
    """The registry's version; a consumer keeps the highest it has seen."""
    updated_at: datetime
    """When this version was made."""

    def subject(self) -> str:
        """The registry's service name."""
        return self.service
