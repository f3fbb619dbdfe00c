"""Events of corrections on ``onesource.exchange.correction.v1``."""

from __future__ import annotations

from typing import Any, ClassVar

from onesource.kit.events import DomainEvent

CORRECTION_TOPIC = "onesource.exchange.correction.v1"


class CorrectionEvent(DomainEvent):
    """Base of correction events: the report after the change."""

    topic: ClassVar[str] = CORRECTION_TOPIC
    source: ClassVar[str] = "/onesource/exchange"

    id: str
    """The report."""
    resource: str
    """The resource."""
    provider: str
    """The owning department."""
    record_key: str
    """The record's key."""
    field: str
    """The suspect field."""
    reported_value: Any = None
    """The value the reporter received."""
    suggested_value: Any = None
    """The value the reporter suggests."""
    note: str
    """The reporter's note."""
    reporter_department: str
    """The reporting department."""
    status: str
    """``open``, ``resolved`` or ``dismissed``."""
    resolution_note: str | None = None
    """The owner's note."""

    def subject(self) -> str:
        """The report id."""
        return self.id


class CorrectionReported(CorrectionEvent):
    """A consumer reported a suspect datum to its owner."""

    event_type: ClassVar[str] = "gov.onesource.exchange.correction.reported.v1"


class CorrectionResolved(CorrectionEvent):
    """The owner corrected the datum; the fix reaches subscribers as an ordinary change event of the registry."""

    event_type: ClassVar[str] = "gov.onesource.exchange.correction.resolved.v1"


class CorrectionDismissed(CorrectionEvent):
    """The owner found the datum right and dismissed the report."""

    event_type: ClassVar[str] = "gov.onesource.exchange.correction.dismissed.v1"
