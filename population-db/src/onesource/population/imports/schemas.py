"""API shapes of bulk imports, and fast readers of the rows that plainly fit them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
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


_KNOWN = frozenset(IMPORT_COLUMNS)
# ASCII only, and matched whole: what these match, the model's own patterns surely match too.
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9Xx]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIVISION = re.compile(r"[0-9]{6}")
_HOUSEHOLD_ID = re.compile(r"[0-9A-Za-z-]{1,32}")
_TWO_DIGITS = frozenset(f"{number:02d}" for number in range(100))
_SEXES = frozenset(("0", "1", "2", "9"))  # PersonCreate.sex's Literal
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # from JSON escapes; the model refuses them


def _plain_name(value: Any) -> bool:
    """Whether ``value`` is a ``Name`` the model keeps as it is: nothing to strip, 1 to 64 characters.

    ``str.isspace`` covers every character pydantic strips (Unicode White_Space), so no edge character to strip
    here means none there.
    """
    return (
        type(value) is str
        and 0 < len(value) <= 64
        and not value[0].isspace()
        and not value[-1].isspace()
        and _SURROGATE.search(value) is None
    )


def _plain_date(value: Any) -> date | None:
    """The date of a plain ``YYYY-MM-DD`` string, as the model reads it; ``None`` for anything else."""
    if type(value) is not str or _DATE.fullmatch(value) is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _plain_former_names(values: Mapping[str, Any]) -> list[str] | None:
    """The former names of ``values`` as the model reads them (a CSV cell is split at semicolons), or ``None``."""
    former = values.get("former_names")
    if former is None:
        return None if "former_names" in values else []
    if type(former) is str:
        former = [name for name in former.split(";") if name.strip()]
    elif type(former) is not list:
        return None
    if len(former) > 10 or not all(_plain_name(name) for name in former):
        return None
    return list(former)


def _plain_code(value: Any) -> bool:
    return value is None or (type(value) is str and value in _TWO_DIGITS)


def typed_row(values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The fields :class:`ImportRow` makes of ``values`` when they are plainly well formed, else ``None``.

    Whenever it returns fields they equal ``ImportRow.model_validate(values)``'s (a property test holds the two
    together). Anything out of the ordinary — a missing or unknown field, a value of another type, whitespace to
    strip, a date in another form — gives ``None``, and the model decides, with its own messages. A bulk import's
    rows are nearly all well formed, and this reads them several times faster than the model.
    """
    if not values.keys() <= _KNOWN:
        return None
    id_number = values.get("id_number")
    name = values.get("name")
    ethnicity = values.get("ethnicity")
    birthplace_code = values.get("birthplace_code")
    household_region_code = values.get("household_region_code")
    household_address = values.get("household_address")
    household_id = values.get("household_id")
    marital_status = values.get("marital_status")
    education = values.get("education")
    relationship_to_head = values.get("relationship_to_head")
    if not (
        type(id_number) is str
        and _ID_NUMBER.fullmatch(id_number)
        and _plain_name(name)
        and type(values.get("sex")) is str
        and values["sex"] in _SEXES
        and type(ethnicity) is str
        and ethnicity in _TWO_DIGITS
        and type(birthplace_code) is str
        and _DIVISION.fullmatch(birthplace_code)
        and type(household_region_code) is str
        and _DIVISION.fullmatch(household_region_code)
        and (
            household_address is None
            or (
                type(household_address) is str
                and len(household_address) <= 200
                and _SURROGATE.search(household_address) is None
            )
        )
        and (household_id is None or (type(household_id) is str and _HOUSEHOLD_ID.fullmatch(household_id)))
        and _plain_code(marital_status)
        and _plain_code(education)
        and _plain_code(relationship_to_head)
    ):
        return None
    birth_date = _plain_date(values["birth_date"]) if "birth_date" in values else None
    death = values.get("death_date")
    death_date = None if death is None else _plain_date(death)
    former_names = _plain_former_names(values)
    if birth_date is None or (death is not None and death_date is None) or former_names is None:
        return None
    return {
        "former_names": former_names,
        "household_address": household_address,
        "marital_status": marital_status,
        "education": education,
        "household_id": household_id,
        "relationship_to_head": relationship_to_head,
        "id_number": id_number.upper(),
        "name": name,
        "sex": values["sex"],
        "ethnicity": ethnicity,
        "birth_date": birth_date,
        "birthplace_code": birthplace_code,
        "household_region_code": household_region_code,
        "death_date": death_date,
    }


#: Each column of a plain CSV line (no quotes: no comma in a field) as the model surely reads it, as a regular
#: expression capturing the cell. An empty cell is an absent value, so optional columns may be empty.
_PLAIN_CSV_CELLS = {
    "id_number": r"([0-9]{17}[0-9Xx])",
    # ``\s`` is exactly ``str.isspace`` (see _plain_name); surrogates cannot come from UTF-8, but the model refuses them
    "name": r"([^,\s\ud800-\udfff](?:[^,\ud800-\udfff]{0,62}[^,\s\ud800-\udfff])?)",
    "former_names": r"([^,]*)",
    "sex": r"([0129])",
    "ethnicity": r"([0-9]{2})",
    "birth_date": r"([0-9]{4}-[0-9]{2}-[0-9]{2})",
    "birthplace_code": r"([0-9]{6})",
    "household_region_code": r"([0-9]{6})",
    "household_address": r"([^,\ud800-\udfff]{0,200})",
    "marital_status": r"((?:[0-9]{2})?)",
    "education": r"((?:[0-9]{2})?)",
    "household_id": r"([0-9A-Za-z-]{0,32})",
    "relationship_to_head": r"((?:[0-9]{2})?)",
    "death_date": r"((?:[0-9]{4}-[0-9]{2}-[0-9]{2})?)",
}
_REQUIRED = ("id_number", "name", "sex", "ethnicity", "birth_date", "birthplace_code", "household_region_code")
_COLUMNS_READ = (
    *_REQUIRED,
    "former_names",
    "household_address",
    "marital_status",
    "education",
    "household_id",
    "relationship_to_head",
    "death_date",
)


def _never(text: str) -> None:
    return None


def plain_csv_reader(header: Sequence[str]) -> Callable[[str], dict[str, Any] | None]:
    """A reader of the plain lines of a CSV file with ``header``: one line to the fields :class:`ImportRow` makes.

    A plain line is a decoded line with no quote and no carriage return, so its fields are the text between its
    commas and an empty one is absent. The reader checks a whole line with one regular expression, which is what
    makes a well-formed file cheap to read; it returns ``None`` for every line it is unsure of (the fields are
    then split and read by :func:`typed_row` or the model). A property test holds it to the model.
    """
    if not set(_REQUIRED) <= set(header) or not set(header) <= _KNOWN:
        return _never
    # The last group always captures nothing: an absent column reads it, as an empty cell.
    line = re.compile(",".join(_PLAIN_CSV_CELLS[name] for name in header) + "()")
    group = {name: number for number, name in enumerate(header, start=1)}
    groups_read = tuple(group.get(name, len(header) + 1) for name in _COLUMNS_READ)
    fromisoformat = date.fromisoformat

    def typed(text: str) -> dict[str, Any] | None:
        match = line.fullmatch(text)
        if match is None:
            return None
        (
            id_number,
            name,
            sex,
            ethnicity,
            birth,
            birthplace_code,
            household_region_code,
            former,
            address,
            marital_status,
            education,
            household_id,
            relationship_to_head,
            death,
        ) = match.group(*groups_read)
        try:  # the expression matched their shape, so only an impossible day (02-30) can fail here
            birth_date = fromisoformat(birth)
            death_date = fromisoformat(death) if death else None
        except ValueError:
            return None
        if former:
            former_names = _plain_former_names({"former_names": former})
            if former_names is None:
                return None
        else:
            former_names = []
        return {
            "former_names": former_names,
            "household_address": address or None,
            "marital_status": marital_status or None,
            "education": education or None,
            "household_id": household_id or None,
            "relationship_to_head": relationship_to_head or None,
            "id_number": id_number.upper(),
            "name": name,
            "sex": sex,
            "ethnicity": ethnicity,
            "birth_date": birth_date,
            "birthplace_code": birthplace_code,
            "household_region_code": household_region_code,
            "death_date": death_date,
        }

    return typed


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
