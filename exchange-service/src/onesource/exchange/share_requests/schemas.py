"""API shapes of share requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from onesource.exchange.rowscope import RowScope

ShareRequestStatus = Literal[
    "pending_provider", "pending_confirmation", "granted", "rejected", "disputed", "refused", "upheld"
]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _distinct(fields: list[str]) -> list[str]:
    if len(set(fields)) != len(fields):
        raise ValueError("fields must not repeat")
    return fields


FieldList = Annotated[list[FieldName], Field(min_length=1, max_length=500), AfterValidator(_distinct)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]


class ShareRequestCreate(BaseModel):
    """A consumer department's request to share fields of a resource."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    resource: str = Field(min_length=1, max_length=200, examples=["population.person"])
    """The catalog resource asked for."""
    fields: FieldList = Field(examples=[["id_number", "name"]])
    """The resource's fields asked for."""
    purpose: str = Field(min_length=1, max_length=500, examples=["最低生活保障资格审核"])
    """What the data is for; data calls must quote it."""
    legal_basis: str | None = Field(default=None, max_length=2000)
    """The law or policy that entitles the consumer."""
    duration_days: int | None = Field(default=None, ge=1)
    """How long the grant should last; the service's default when absent."""
    row_scope: RowScope | None = Field(default=None, examples=[{"household_region_code": ["1101"]}])
    """Only records whose listed fields start with one of the prefixes."""


class Decision(BaseModel):
    """The provider's answer: approve (possibly fewer fields) or reject with a reason."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    approve: bool
    """Approve (goes to the coordinator for confirmation) or reject."""
    fields: FieldList | None = None
    """When approving: the subset of the requested fields to grant (all requested when absent)."""
    reason: Reason | None = None
    """Why; required when rejecting."""


class Dispute(BaseModel):
    """The consumer's objection to a rejection, for the coordinator to mediate."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    reason: Reason
    """Why the rejection should be reconsidered."""


class Mediation(BaseModel):
    """The coordinator's ruling on a disputed rejection."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    grant: bool
    """Grant the request after all, or uphold the rejection."""
    fields: FieldList | None = None
    """When granting: the subset of the requested fields to grant (all requested when absent)."""
    reason: Reason
    """The ruling's reasoning."""


class Transition(BaseModel):
    """One step of a share request's history."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    action: str
    """``submitted``, ``granted``, ``refused``, ``approved``, ``rejected``, ``confirmed``, ``disputed``, ``mediated``,
    ``upheld`` or ``escalated``."""
    from_status: str | None
    """Status before the step (``null`` on submission)."""
    to_status: str
    """Status after the step."""
    actor: str
    """Client that took the step (``exchange`` for the deadline sweep)."""
    actor_department: str
    """Department the actor acted for."""
    note: str | None
    """Reason or remark given."""
    at: datetime
    """When."""


class ShareRequest(BaseModel):
    """A share request and where it stands."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: str
    """Identifier (UUIDv7)."""
    status: ShareRequestStatus
    """Where it stands."""
    consumer: str
    """The requesting department."""
    requested_by: str
    """The client that submitted it."""
    resource: str
    """The resource asked for."""
    provider: str
    """The department that owns the resource."""
    fields: list[str]
    """Fields asked for."""
    purpose: str
    """What the data is for."""
    legal_basis: str | None
    """The consumer's stated legal basis."""
    duration_days: int
    """Validity of the grant, in days."""
    row_scope: dict[str, list[str]] | None
    """Records asked for, by field-value prefixes."""
    due_at: datetime | None
    """When the provider must have answered (conditional resources: 10 working days)."""
    overdue: bool
    """The provider missed the deadline; escalated to the coordinators."""
    escalated_at: datetime | None
    """When it was escalated."""
    approved_fields: list[str] | None
    """Fields the provider (or the coordinator's mediation) approved."""
    decision_reason: str | None
    """The provider's reason."""
    decided_by: str | None
    """The steward who decided."""
    decided_at: datetime | None
    """When the provider decided."""
    refusal_reason: str | None
    """For a resource that is not shared: the legal basis of not sharing it."""
    dispute_reason: str | None
    """The consumer's objection to a rejection."""
    grant_id: str | None
    """The grant issued, once granted."""
    created_at: datetime
    """When it was submitted."""
    updated_at: datetime
    """When it last changed."""


class ShareRequestDetail(ShareRequest):
    """A share request with its full history."""

    history: list[Transition]
    """Every step, oldest first."""
