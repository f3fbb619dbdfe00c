"""API shapes of reports."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from onesource.catalog.elements.schemas import ElementOwner


class CopiedField(BaseModel):
    """A non-authoritative field: a copy of an element whose truth lives elsewhere."""

    model_config = ConfigDict(use_attribute_docstrings=True)

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


class DepartmentCopies(BaseModel):
    """One department's copied fields."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    department: str
    """The department collecting the copies."""
    fields: list[CopiedField]
    """Its copying fields, by resource and field."""
    obtainable: int
    """How many of them have a published authoritative source (re-collection that sharing could replace)."""


class RecollectionReport(BaseModel):
    """避免重复采集: non-authoritative fields of published resources that copy an element, per department."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    departments: list[DepartmentCopies]
    """One entry per department with copies, in department order."""
