"""Events of the resources domain: every one carries the full resource document as ``GET`` answers it.

The gateway (routing) and the exchange (its read model) consume them, so ``data`` is exactly
:class:`~onesource.catalog.resources.schemas.Resource`. The document is held as one attribute rather than
inherited field by field because it has a ``topic`` of its own, which would clash with the event's topic.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic.json_schema import DEFAULT_REF_TEMPLATE, GenerateJsonSchema, JsonSchemaMode

from onesource.catalog.resources.schemas import Resource
from onesource.kit.events import CloudEvent, DomainEvent

RESOURCE_TOPIC = "onesource.catalog.resource.v1"


class _ResourceEvent(DomainEvent):
    topic: ClassVar[str] = RESOURCE_TOPIC
    source: ClassVar[str] = "/onesource/catalog"

    resource: Resource
    """The resource document after the change."""

    def subject(self) -> str:
        """The resource id."""
        return self.resource.id

    def to_cloudevent(self) -> CloudEvent:
        """The envelope, with the resource document itself as ``data``."""
        return CloudEvent(
            source=self.source,
            type=self.event_type,
            subject=self.subject(),
            dataschema=self.schema_uri(),
            data=self.resource.model_dump(mode="json"),
        )

    @classmethod
    def model_json_schema(
        cls,
        by_alias: bool | None = None,
        ref_template: str = DEFAULT_REF_TEMPLATE,
        schema_generator: type[GenerateJsonSchema] = GenerateJsonSchema,
        mode: JsonSchemaMode = "validation",
        *,
        union_format: Literal["any_of", "primitive_type_array"] = "any_of",
    ) -> dict[str, Any]:
        """The schema of ``data`` (the contracts describe what is on the wire): the resource document."""
        schema = Resource.model_json_schema(
            by_alias=by_alias,
            ref_template=ref_template,
            schema_generator=schema_generator,
            mode=mode,
            union_format=union_format,
        )
        schema["title"] = cls.__name__
        schema["description"] = (cls.__doc__ or "").strip()
        return schema


class ResourcePublished(_ResourceEvent):
    """A resource was published: it is in the directory and may be shared."""

    event_type: ClassVar[str] = "gov.onesource.catalog.resource.published.v1"


class ResourceChanged(_ResourceEvent):
    """A published resource changed (the document is the new version)."""

    event_type: ClassVar[str] = "gov.onesource.catalog.resource.changed.v1"


class ResourceRetired(_ResourceEvent):
    """A resource was retired: it no longer takes share requests and serves no data paths."""

    event_type: ClassVar[str] = "gov.onesource.catalog.resource.retired.v1"
