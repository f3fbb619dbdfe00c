"""API shapes of the sharing statistics."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PartyStatistics(BaseModel):
    """Sharing figures of one department, as provider or as consumer."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    department: str
    """The department."""
    requests: int = 0
    """Share requests (received as provider, submitted as consumer)."""
    requests_by_status: dict[str, int] = Field(default_factory=dict)
    """Those requests by current status."""
    decided: int = 0
    """Requests the provider has answered."""
    median_decision_hours: float | None = None
    """Median time from submission to the provider's answer, in hours."""
    mean_decision_hours: float | None = None
    """Mean time from submission to the provider's answer, in hours."""
    overdue: int = 0
    """Requests flagged overdue (the provider missed its deadline)."""
    active_grants: int = 0
    """Grants in force."""
    events_delivered: int = 0
    """Change events delivered to subscriptions."""


class Statistics(BaseModel):
    """Sharing statistics for the coordinators."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    providers: list[PartyStatistics]
    """Per providing department."""
    consumers: list[PartyStatistics]
    """Per consuming department."""
    generated_at: datetime
    """When the figures were computed."""
