"""Record events: every registry event carries the whole record after the change, and a change the fields it set.

So a consumer — the exchange's projector masking to a grant, or a department's system — never needs earlier events
to know a record's state or its row scope. A registry subclasses these once per event type, naming its topic,
source, CloudEvents type and the record's key field::

    class PersonRegistered(RecordRegistered):
        topic = PERSON_TOPIC; source = "/onesource/population"; key_field = "id_number"
        event_type = "gov.onesource.population.person.registered.v1"
"""

from __future__ import annotations

from typing import Any, ClassVar

from onesource.kit.events import DomainEvent


class RecordEvent(DomainEvent):
    """A change of one record; its subject (and Kafka key) is the record's key."""

    key_field: ClassVar[str]
    """The record field holding its key (``id_number``, ``uscc`` …)."""

    record: dict[str, Any]
    """The record after the change (every field of the registry's catalog resources)."""

    def subject(self) -> str:
        """The record's key."""
        return str(self.record[self.key_field])


class RecordRegistered(RecordEvent):
    """A record was registered (through the API or a bulk import)."""


class RecordChanged(RecordEvent):
    """Fields of a record changed (an update, or a lifecycle transition that sets fields)."""

    changes: dict[str, Any]
    """The fields this change set, with their new values (``null`` where a field was cleared)."""
