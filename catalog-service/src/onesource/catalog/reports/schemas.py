"""API shapes of reports."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from onesource.catalog.elements.schemas import ElementOwner


class CopiedField(BaseModel):
    """A non-authoritative field: a copy of an element whose truth lives elsewhere (避免重复采集)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    department: str
    """The department collecting the copy (the resource's provider)."""
    resource: str
    """The resource holding the copy."""
    resource_name: str
    """Its name."""
    field: str
    """The copying field."""
    element: str
    """The element the field carries."""
    source_element: str
    """The element it copies."""
    owner: ElementOwner | None
    """The published authoritative source it could be shared from instead (``null``: none published yet)."""
    obtainable: bool
    """Whether sharing could replace the re-collection now (an authoritative source is published)."""
