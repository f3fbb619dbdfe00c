"""Events of the person record, on ``onesource.population.person.v1``, keyed by ID number.

Every registry event carries the whole record after the change in ``record`` (named as the catalog fields), and
update events also the fields they set in ``changes``. So a consumer — the exchange's projector masking to a
grant, or a department's system — never needs earlier events to know a record's state or its row scope.
"""

from __future__ import annotations

from typing import Any, ClassVar

from onesource.kit.events import DomainEvent

PERSON_TOPIC = "onesource.population.person.v1"
SOURCE = "/onesource/population"


class _PersonEvent(DomainEvent):
    topic: ClassVar[str] = PERSON_TOPIC
    source: ClassVar[str] = SOURCE

    record: dict[str, Any]
    """The person's record after the change (every field of the catalog's ``population.person*`` resources)."""

    def subject(self) -> str:
        """The person's ID number."""
        return str(self.record["id_number"])


class PersonRegistered(_PersonEvent):
    """A person was registered (through the API or a bulk import)."""

    event_type: ClassVar[str] = "gov.onesource.population.person.registered.v1"


class PersonUpdated(_PersonEvent):
    """Fields of a person changed."""

    event_type: ClassVar[str] = "gov.onesource.population.person.updated.v1"

    changes: dict[str, Any]
    """The fields this change set, with their new values (``null`` where a field was cleared)."""


class PersonDeceased(_PersonEvent):
    """A person's death was registered."""

    event_type: ClassVar[str] = "gov.onesource.population.person.deceased.v1"
