"""API shapes of bulk imports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from onesource.population.persons.schemas import PersonCreate

#: Columns an import file may have (CSV header names, NDJSON keys).
IMPORT_COLUMNS = (*PersonCreate.model_fields, "death_date")


class ImportRow(PersonCreate):
    """One row of an import file: a registration, optionally of a person already deceased."""

    death_date: date | None = None
    """Date of death, for a person whose death is already known."""

    @field_validator("former_names", mode="before")
    @classmethod
    def _split_former_names(cls, value: Any) -> Any:
        # In CSV the former names share one column, separated by semicolons.
        if isinstance(value, str):
            return [name for name in value.split(";") if name.strip()]
        return value


class RowError(BaseModel):
    """Why one row of the file was refused."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    line: int
    """Line of the file the row starts on (the CSV header is line 1)."""
    id_number: str | None
    """The row's ID number, when it has one."""
    field: str | None
    """The field at fault, or ``null`` when the whole row is."""
    reason: str
    """What is wrong."""


class PersonImport(BaseModel):
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


class ImportReport(PersonImport):
    """A finished import with the first refused rows (all of them at ``/v1/imports/{id}/errors``)."""

    errors: list[RowError]
    """The first refused rows, in file order."""
    errors_truncated: bool
    """Whether more refused rows exist than ``errors`` lists."""
