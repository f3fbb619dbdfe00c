"""API shapes of entities: what a registrar sends and what a reader gets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from onesource.legal_entity.entities.rules import EntityStatus
from onesource.registry.records import RecordVersion

Code = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=32)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
Scope = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]

#: Fields of the record in the order the catalog lists them (events, history and imports use the same names).
RECORD_FIELDS = (
    "uscc",
    "name",
    "former_names",
    "entity_type",
    "legal_representative_id",
    "established_on",
    "registered_capital",
    "business_scope",
    "status",
    "status_reason",
    "status_effective_on",
    "registration_authority",
    "region_code",
    "industry_code",
    "industry_section",
    "address",
    "operating_until",
)
#: Fields a registrar may change with ``PATCH``. The USCC and the date of establishment never change (a corrected
#: code is a new registration); the status has its own call; the industry section follows the industry class.
MUTABLE_FIELDS = (
    "name",
    "former_names",
    "entity_type",
    "legal_representative_id",
    "registered_capital",
    "business_scope",
    "registration_authority",
    "region_code",
    "industry_code",
    "address",
    "operating_until",
)


class Capital(BaseModel):
    """Registered capital (注册资本): an exact decimal amount in a currency."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    amount: str = Field(max_length=40, examples=["10000000.00"])
    """Non-negative decimal string (no sign, exponent or separators), with at most the currency's decimal places."""
    currency: Code = Field(examples=["CNY"])
    """ISO 4217 currency code."""


class EntityCreate(BaseModel):
    """An entity to register."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    uscc: Code = Field(examples=["91110000600037341L"])
    """Unified social credit code (GB 32100-2015): check character, registration department and category, the
    GB 11714 organisation code in positions 9–17 and the GB/T 2260 division in positions 3–8 are checked."""
    name: Name = Field(examples=["北京示例科技有限公司"])
    """Registered name (名称)."""
    former_names: list[Name] = Field(default_factory=list, max_length=20)
    """Names the entity was registered under before (曾用名), oldest first."""
    entity_type: Code = Field(examples=["1130"])
    """Type of entity: a GB 32100 category (``91``, ``51`` …) or a company type (``1130`` …), matching the USCC's
    positions 1–2 (``GET``-able list: ``onesource.standards.entity_types``)."""
    legal_representative_id: Code = Field(examples=["11010519491231002X"])
    """Citizen ID number (GB 11643-1999) of the legal representative (法定代表人), an adult registered and alive in
    population-db (checked there, through the gateway)."""
    established_on: date = Field(examples=["2015-06-01"])
    """Date of establishment (成立日期)."""
    registered_capital: Capital | None = None
    """Registered capital (注册资本), if the entity has one."""
    business_scope: Scope | None = None
    """Business scope (经营范围)."""
    registration_authority: Name = Field(examples=["北京市市场监督管理局"])
    """The authority that registered the entity (登记机关)."""
    region_code: Code = Field(examples=["110105"])
    """Division of the entity's domicile, a GB/T 2260 code in force."""
    industry_code: Code = Field(examples=["6513"])
    """Industry, a GB/T 4754-2017 class (4 digits); its section (A–T) is derived."""
    address: Text = Field(examples=["北京市朝阳区建国路88号"])
    """Domicile (住所)."""
    operating_until: date | None = None
    """Last day of the term of operation (营业期限至); ``null``: no limit."""


class EntityUpdate(BaseModel):
    """A partial update (JSON merge patch): fields present are set, ``null`` clears an optional field.

    ``registered_capital`` merges too: members present are set (both are required in the result).
    """

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    name: Name | None = None
    """New name; the old one is added to ``former_names`` unless they are given too."""
    former_names: list[Name] | None = Field(default=None, max_length=20)
    """Names used before, oldest first."""
    entity_type: Code | None = None
    """Type of entity, matching the USCC's positions 1–2."""
    legal_representative_id: Code | None = None
    """A new legal representative, checked in population-db like at registration."""
    registered_capital: dict[str, Any] | None = None
    """Registered capital, merged member by member into the current one."""
    business_scope: Scope | None = None
    """Business scope."""
    registration_authority: Name | None = None
    """The registering authority."""
    region_code: Code | None = None
    """Division of the domicile."""
    industry_code: Code | None = None
    """Industry class (GB/T 4754-2017)."""
    address: Text | None = None
    """Domicile."""
    operating_until: date | None = None
    """Last day of the term of operation; ``null``: no limit."""

    @field_validator(
        "name",
        "former_names",
        "entity_type",
        "legal_representative_id",
        "registration_authority",
        "region_code",
        "industry_code",
        "address",
        mode="before",
    )
    @classmethod
    def _required_stays_required(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be cleared")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields this patch sets, with their new values (JSON-ready)."""
        return self.model_dump(mode="json", include=self.model_fields_set)


class StatusChange(BaseModel):
    """A move of the entity to another status of the lifecycle."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    status: EntityStatus
    """The new status (the lifecycle decides which are allowed from the current one)."""
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] = Field(
        examples=["股东会决议解散"]
    )
    """Why (the decision or document behind it)."""
    effective_on: date = Field(examples=["2025-01-15"])
    """The day the status takes effect; not in the future, not before establishment."""


class Entity(BaseModel):
    """An entity as the registry holds it."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    uscc: str
    """Unified social credit code (GB 32100-2015), the record key."""
    name: str
    """Registered name."""
    former_names: list[str]
    """Names used before, oldest first."""
    entity_type: str
    """Type of entity (GB 32100 category or company type)."""
    legal_representative_id: str
    """Citizen ID number of the legal representative (the person's details are population-db's)."""
    established_on: date
    """Date of establishment."""
    registered_capital: Capital | None
    """Registered capital."""
    business_scope: str | None
    """Business scope."""
    status: EntityStatus
    """Status in the lifecycle."""
    status_reason: str | None
    """Why the entity has its status (since its last status change)."""
    status_effective_on: date | None
    """Since when it has its status (the last status change)."""
    registration_authority: str
    """The registering authority."""
    region_code: str
    """Division of the domicile (GB/T 2260)."""
    industry_code: str
    """Industry class (GB/T 4754-2017)."""
    industry_section: str
    """Industry section (A–T), from the class."""
    address: str
    """Domicile."""
    operating_until: date | None
    """Last day of the term of operation; ``null``: no limit."""
    version: int
    """Version of the record, 1 at registration; also its ``ETag``."""
    created_at: datetime
    """When it was registered."""
    updated_at: datetime
    """When it last changed."""


class EntityVersion(RecordVersion):
    """One version of an entity: what changed, who changed it, when, and the record as it then was."""

    change: Literal["registered", "updated", "status-changed"]
    """What happened."""


#: Columns of a CSV import file (the NDJSON keys are the registration's, ``registered_capital`` an object): the
#: capital as two columns, former names separated by semicolons, an empty cell an absent value.
IMPORT_COLUMNS = (
    *(name for name in EntityCreate.model_fields if name != "registered_capital"),
    "registered_capital_amount",
    "registered_capital_currency",
)


class ImportRow(EntityCreate):
    """One row of an import file: a registration, as a CSV line or an NDJSON object."""

    @model_validator(mode="before")
    @classmethod
    def _from_csv(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        values = dict(values)
        if isinstance(values.get("former_names"), str):
            values["former_names"] = [name for name in values["former_names"].split(";") if name.strip()]
        amount = values.pop("registered_capital_amount", None)
        currency = values.pop("registered_capital_currency", None)
        if amount is not None or currency is not None:
            values["registered_capital"] = {"amount": amount or "", "currency": currency or ""}
        return values
