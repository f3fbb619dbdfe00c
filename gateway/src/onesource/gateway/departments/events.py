"""Events of the departments domain."""

from __future__ import annotations

from typing import ClassVar

from onesource.kit.events import DomainEvent

DEPARTMENT_TOPIC = "onesource.identity.department.v1"


class DepartmentRegistered(DomainEvent):
    """A department was registered with the platform."""

    event_type: ClassVar[str] = "gov.onesource.identity.department.registered.v1"
    topic: ClassVar[str] = DEPARTMENT_TOPIC
    source: ClassVar[str] = "/onesource/gateway"

    code: str
    """Short slug of the department."""
    name: str
    """Official name."""
    uscc: str
    """Unified social credit code."""

    def subject(self) -> str:
        """The department code."""
        return self.code
