"""Events of the entity record, on ``onesource.legal-entity.entity.v1``, keyed by USCC.

Like every registry's, each carries the whole record after the change in ``record`` (named as the catalog fields),
and a change also the fields it set in ``changes`` (``registry.events``).
"""

from __future__ import annotations

from typing import ClassVar

from onesource.registry.events import RecordChanged, RecordEvent, RecordRegistered

ENTITY_TOPIC = "onesource.legal-entity.entity.v1"
SOURCE = "/onesource/legal-entity"


class _EntityEvent(RecordEvent):
    topic: ClassVar[str] = ENTITY_TOPIC
    source: ClassVar[str] = SOURCE
    key_field: ClassVar[str] = "uscc"


class EntityRegistered(_EntityEvent, RecordRegistered):
    """An entity was registered (through the API or a bulk import)."""

    event_type: ClassVar[str] = "gov.onesource.legal-entity.entity.registered.v1"


class EntityUpdated(_EntityEvent, RecordChanged):
    """Fields of an entity changed."""

    event_type: ClassVar[str] = "gov.onesource.legal-entity.entity.updated.v1"


class EntityStatusChanged(_EntityEvent, RecordChanged):
    """An entity's status changed (``changes`` holds the status, its reason and the day it takes effect)."""

    event_type: ClassVar[str] = "gov.onesource.legal-entity.entity.status-changed.v1"
