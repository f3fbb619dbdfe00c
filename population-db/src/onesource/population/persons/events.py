"""Events of the person record, on ``onesource.population.person.v1``, keyed by ID number.

Like every registry's, each carries the whole record after the change in ``record`` (named as the catalog fields),
and an update also the fields it set in ``changes`` (``registry.events``).
"""

from __future__ import annotations

from typing import ClassVar

from onesource.registry.events import RecordChanged, RecordEvent, RecordRegistered

PERSON_TOPIC = "onesource.population.person.v1"
SOURCE = "/onesource/population"


class _PersonEvent(RecordEvent):
    topic: ClassVar[str] = PERSON_TOPIC
    source: ClassVar[str] = SOURCE
    key_field: ClassVar[str] = "id_number"


class PersonRegistered(_PersonEvent, RecordRegistered):
    """A person was registered (through the API or a bulk import)."""

    event_type: ClassVar[str] = "gov.onesource.population.person.registered.v1"


class PersonUpdated(_PersonEvent, RecordChanged):
    """Fields of a person changed."""

    event_type: ClassVar[str] = "gov.onesource.population.person.updated.v1"


class PersonDeceased(_PersonEvent):
    """A person's death was registered."""

    event_type: ClassVar[str] = "gov.onesource.population.person.deceased.v1"
