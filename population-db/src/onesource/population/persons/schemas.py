"""API shapes of persons: what a registrar sends and what a reader gets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from onesource.registry.records import RecordVersion

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
DivisionCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
TwoDigitCode = Annotated[str, StringConstraints(pattern=r"^\d{2}$")]
IdNumber = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=32)]

#: Fields a registrar may change with ``PATCH``. The ID number, and the sex and birth date it encodes, never change
#: (a corrected number is a new registration); death has its own call.
MUTABLE_FIELDS = (
    "name",
    "former_names",
    "ethnicity",
    "birthplace_code",
    "household_region_code",
    "household_address",
    "marital_status",
    "education",
    "household_id",
    "relationship_to_head",
)
#: Fields of the record in the order the catalog lists them (events and imports use the same names).
RECORD_FIELDS = (
    "id_number",
    "name",
    "former_names",
    "sex",
    "ethnicity",
    "birth_date",
    "birthplace_code",
    "household_region_code",
    "household_address",
    "marital_status",
    "education",
    "household_id",
    "relationship_to_head",
    "deceased",
    "death_date",
)


class _Household(BaseModel):
    """Fields shared by registration and update."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    former_names: list[Name] = Field(default_factory=list, max_length=10, examples=[["王小明"]])
    """Names the person used before (曾用名), oldest first."""
    household_address: str | None = Field(default=None, max_length=200, examples=["东城区东华门街道南池子大街12号"])
    """Address of the household registration (户籍地址)."""
    marital_status: TwoDigitCode | None = Field(default=None, examples=["20"])
    """Marital status, GB/T 2261.2-2003 code."""
    education: TwoDigitCode | None = Field(default=None, examples=["21"])
    """Highest education, GB/T 4658-2006 code."""
    household_id: str | None = Field(default=None, pattern=r"^[0-9A-Za-z-]{1,32}$", examples=["110101000123"])
    """Number of the household (户号) the person is registered in."""
    relationship_to_head: TwoDigitCode | None = Field(default=None, examples=["02"])
    """Relationship to the head of the household, GB/T 4761-2008 code."""


class PersonCreate(_Household):
    """A person to register."""

    id_number: IdNumber = Field(examples=["11010519491231002X"])
    """Citizen ID number (GB 11643-1999); its birth date, sex parity and region are checked."""
    name: Name = Field(examples=["王明"])
    """Name as registered (姓名)."""
    sex: Literal["0", "1", "2", "9"] = Field(examples=["2"])
    """Sex, GB/T 2261.1-2003 code; must agree with the ID number's sequence parity (odd 1, even 2)."""
    ethnicity: TwoDigitCode = Field(examples=["01"])
    """Ethnic group, GB/T 3304-1991 code."""
    birth_date: date = Field(examples=["1949-12-31"])
    """Date of birth; must equal the one in the ID number."""
    birthplace_code: DivisionCode = Field(examples=["110105"])
    """Place of birth, GB/T 2260 division code."""
    household_region_code: DivisionCode = Field(examples=["110101"])
    """Division of the household registration (户籍地), GB/T 2260 code."""


class PersonUpdate(BaseModel):
    """A partial update (JSON merge patch): fields present are set, ``null`` clears an optional field."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    name: Name | None = None
    """New name; the old one is added to ``former_names`` unless they are given too."""
    former_names: list[Name] | None = Field(default=None, max_length=10)
    """Names used before, oldest first."""
    ethnicity: TwoDigitCode | None = None
    """Ethnic group, GB/T 3304-1991 code."""
    birthplace_code: DivisionCode | None = None
    """Place of birth, GB/T 2260 code."""
    household_region_code: DivisionCode | None = None
    """Division of the household registration, GB/T 2260 code."""
    household_address: str | None = Field(default=None, max_length=200)
    """Address of the household registration."""
    marital_status: TwoDigitCode | None = None
    """Marital status, GB/T 2261.2-2003 code."""
    education: TwoDigitCode | None = None
    """Highest education, GB/T 4658-2006 code."""
    household_id: str | None = Field(default=None, pattern=r"^[0-9A-Za-z-]{1,32}$")
    """Household number (户号)."""
    relationship_to_head: TwoDigitCode | None = None
    """Relationship to the head of the household, GB/T 4761-2008 code."""

    @field_validator("name", "ethnicity", "birthplace_code", "household_region_code", "former_names", mode="before")
    @classmethod
    def _required_stays_required(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be cleared")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields this patch sets, with their new values (JSON-ready)."""
        return self.model_dump(mode="json", include=self.model_fields_set)


class DeathRegistration(BaseModel):
    """A death to register."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    death_date: date = Field(examples=["2024-03-01"])
    """Date of death; not before birth and not in the future."""


class Person(BaseModel):
    """A person as the registry holds it."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id_number: str
    """Citizen ID number (GB 11643-1999), the record key."""
    name: str
    """Name as registered."""
    former_names: list[str]
    """Names used before, oldest first."""
    sex: str
    """GB/T 2261.1-2003 code."""
    ethnicity: str
    """GB/T 3304-1991 code."""
    birth_date: date
    """Date of birth."""
    birthplace_code: str
    """Place of birth, GB/T 2260 code."""
    household_region_code: str
    """Division of the household registration, GB/T 2260 code."""
    household_address: str | None
    """Address of the household registration."""
    marital_status: str | None
    """GB/T 2261.2-2003 code."""
    education: str | None
    """GB/T 4658-2006 code."""
    household_id: str | None
    """Household number."""
    relationship_to_head: str | None
    """GB/T 4761-2008 code."""
    deceased: bool
    """Whether a death has been registered."""
    death_date: date | None
    """Date of death, when deceased."""
    version: int
    """Version of the record, 1 at registration; also its ``ETag``."""
    created_at: datetime
    """When it was registered."""
    updated_at: datetime
    """When it last changed."""

    def record(self) -> dict[str, Any]:
        """The record's fields, JSON-ready, as events carry them (no bookkeeping columns)."""
        return self.model_dump(mode="json", include=set(RECORD_FIELDS))


class PersonVersion(RecordVersion):
    """One version of a person: what changed, who changed it, when, and the record as it then was."""

    change: Literal["registered", "updated", "deceased"]
    """What happened."""
    import_id: str | None
    """Bulk import the change came from, if any."""

    @field_validator("import_id", mode="before")
    @classmethod
    def _import_id_text(cls, value: Any) -> Any:
        return None if value is None else str(value)
