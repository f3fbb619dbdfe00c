"""API shapes of corrections (校核)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

Note = Annotated[str, StringConstraints(min_length=1, max_length=4000, strip_whitespace=True)]
CorrectionStatus = Literal["open", "resolved", "dismissed"]


class CorrectionCreate(BaseModel):
    """A consumer's report of a suspect datum."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    resource: str = Field(min_length=1, max_length=200, examples=["population.person"])
    """The resource the datum belongs to."""
    record_key: str = Field(min_length=1, max_length=200, examples=["11010519491231002X"])
    """The record's key."""
    field: str = Field(min_length=1, max_length=200, examples=["name"])
    """The suspect field; the reporter must hold a grant covering it."""
    reported_value: JsonValue = None
    """The value the reporter received."""
    suggested_value: JsonValue = None
    """What the reporter believes is right."""
    note: Note
    """Why the value is suspect (evidence, source)."""


class CorrectionAnswer(BaseModel):
    """The owner's answer to a report."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    note: Note
    """What was done (resolve) or why nothing will be (dismiss)."""


class Correction(BaseModel):
    """A correction report and its answer."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: str
    """Identifier (UUIDv7)."""
    resource: str
    """The resource."""
    provider: str
    """The owning department, which answers."""
    record_key: str
    """The record's key."""
    field: str
    """The suspect field."""
    reported_value: JsonValue
    """The value the reporter received."""
    suggested_value: JsonValue
    """The value the reporter suggests."""
    note: str
    """The reporter's note."""
    reporter_department: str
    """The reporting department."""
    reported_by: str
    """The reporting client."""
    status: CorrectionStatus
    """``open``, ``resolved`` or ``dismissed``."""
    resolution_note: str | None
    """The owner's note."""
    resolved_by: str | None
    """The steward who answered."""
    resolved_at: datetime | None
    """When it was answered."""
    created_at: datetime
    """When it was reported."""
