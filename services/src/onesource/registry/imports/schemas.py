"""API shapes of bulk imports: an import and its progress, a refused row, the report a finished import answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator


class RowError(BaseModel):
    """Why one row of the file was refused."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    line: int
    """Line of the file the row starts on (the CSV header is line 1)."""
    key: str | None
    """The row's record key (as the file gave it), when it has one."""
    field: str | None
    """The field at fault, or ``null`` when the whole row is."""
    reason: str
    """What is wrong."""


class RecordImport(BaseModel):
    """A bulk import and its outcome so far."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: str
    """Import id."""
    format: Literal["csv", "ndjson"]
    """File format."""
    status: Literal["running", "completed", "failed"]
    """``running`` until the file is read and loaded; ``failed`` means nothing was imported."""
    client_id: str
    """Who sent the file."""
    department: str
    """The department it acted for."""
    rows_read: int
    """Rows read so far (progress, updated while running)."""
    accepted: int
    """Rows registered."""
    rejected: int
    """Rows refused; each is listed in the error report."""
    failure: str | None
    """Why the import failed as a whole."""
    started_at: datetime
    """When the upload started."""
    finished_at: datetime | None
    """When it completed or failed."""

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> str:
        return str(value)


class ImportReport(RecordImport):
    """A finished import with the first refused rows (all of them at ``/v1/imports/{id}/errors``)."""

    errors: list[RowError]
    """The first refused rows, in file order."""
    errors_truncated: bool
    """Whether more refused rows exist than ``errors`` lists."""
