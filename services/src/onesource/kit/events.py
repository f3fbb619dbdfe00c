"""CloudEvents 1.0 envelope (structured JSON mode) and the base of every domain event.

A domain event is a Pydantic model naming its CloudEvents ``type``, its source topic and its subject
(the record key, which is also the Kafka key, so per-record order holds).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import uuid_utils
from pydantic import BaseModel, ConfigDict, Field

SPEC_VERSION = "1.0"
SCHEMA_BASE = "https://onesource.gov.cn/schemas/events/"
#: Source topics are ``onesource.<service>.<entity>.v1``: the service segment names the registry that publishes them.
SOURCE_TOPIC_PREFIX = "onesource."


def registry_of_topic(topic: str) -> str | None:
    """The service whose source topic ``topic`` is (``onesource.<service>.…``), or ``None`` outside that form.

    The catalog refuses a resource naming a topic of a registry its provider does not own, and the exchange's
    projector delivers a resource's topic only when its provider owns that registry.
    """
    if not topic.startswith(SOURCE_TOPIC_PREFIX):
        return None
    service, dot, _ = topic.removeprefix(SOURCE_TOPIC_PREFIX).partition(".")
    return service if dot and service else None


def new_event_id() -> str:
    """A unique, time-sortable event id (UUIDv7, RFC 9562)."""
    return str(uuid_utils.uuid7())


def derived_event_id(at: datetime, *names: str) -> str:
    """The id of an event written again each time it is published: a UUIDv7 of ``at`` whose random part is a hash.

    Deferred events (``outbox.add_deferred``) are written by the relay, and a relay that dies before marking them
    writes them again: their ids must come out the same, so that consumers still recognise the repeat. ``names``
    tell the event apart from every other of the same moment (for an import: the import and the record key).
    RFC 9562 §5.7: 48 bits of Unix milliseconds, version 7, then 74 bits (here of BLAKE2b) around the variant.
    """
    milliseconds = int(at.timestamp() * 1000) & 0xFFFF_FFFF_FFFF
    spelled = "".join(f"{len(name)}:{name}" for name in names)  # length-prefixed: no two lists of names spell alike
    hashed = int.from_bytes(hashlib.blake2b(spelled.encode(), digest_size=10).digest())
    rand_a, rand_b = hashed >> 68, hashed & ((1 << 62) - 1)  # 12 of the top bits, 62 of the bottom
    value = milliseconds << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="allow")

    specversion: str = SPEC_VERSION
    """CloudEvents version, always ``1.0``."""
    id: str = Field(default_factory=new_event_id)
    """Unique, sortable event id (UUIDv7); consumers deduplicate on it."""
    source: str
    """``/onesource/<service>``."""
    type: str
    """``gov.onesource.<domain>.<entity>.<verb-past-tense>.v1``."""
    subject: str
    """The record key; also the Kafka message key."""
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    """When the change happened."""
    datacontenttype: str = "application/json"
    """Media type of ``data``."""
    dataschema: str | None = None
    """URI of the JSON Schema of ``data`` (``contracts/events/<type>.json``)."""
    data: dict[str, Any]
    """The event payload."""


class DomainEvent(BaseModel):
    """Base of past-tense domain event payloads (``PersonRegistered`` …).

    Subclasses set ``event_type``, ``topic`` and ``source`` and implement :meth:`subject`.
    """

    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[str]
    source: ClassVar[str]

    registry: ClassVar[dict[str, type[DomainEvent]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            DomainEvent.registry[cls.event_type] = cls

    def subject(self) -> str:
        """The record key this event is about."""
        raise NotImplementedError

    @classmethod
    def schema_uri(cls) -> str:
        """Where this event type's JSON Schema is published."""
        return f"{SCHEMA_BASE}{cls.event_type}.json"

    def to_cloudevent(self) -> CloudEvent:
        """Wrap this payload in a CloudEvents envelope."""
        return CloudEvent(
            source=self.source,
            type=self.event_type,
            subject=self.subject(),
            dataschema=self.schema_uri(),
            data=self.model_dump(mode="json"),
        )


class EnvelopeWriter:
    """Writes CloudEvents of one type as JSON text, for bulk loads: one ``json.dumps`` per event, of its data.

    ``writer(subject, data_json)`` returns ``(event id, CloudEvent JSON)``, equal once parsed to
    ``event.to_cloudevent().model_dump(mode="json")`` but for the id. Callers must have validated the data
    themselves; every event of one writer carries the same ``time`` (a bulk load happens at one moment).
    """

    def __init__(self, event_type: type[DomainEvent], at: datetime) -> None:
        dumps = json.dumps
        self._head = '{"specversion":' + dumps(SPEC_VERSION) + ',"id":"'
        self._middle = (
            '","source":' + dumps(event_type.source) + ',"type":' + dumps(event_type.event_type) + ',"subject":'
        )
        time_text = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        self._tail = (
            ',"time":'
            + dumps(time_text)
            + ',"datacontenttype":"application/json","dataschema":'
            + dumps(event_type.schema_uri())
            + ',"data":'
        )

    def __call__(self, subject: str, data_json: str, event_id: str | None = None) -> tuple[str, str]:
        """The event's id (``event_id``, or a new one) and its JSON text."""
        event_id = event_id or new_event_id()
        return event_id, f"{self._head}{event_id}{self._middle}{json.dumps(subject)}{self._tail}{data_json}}}"
