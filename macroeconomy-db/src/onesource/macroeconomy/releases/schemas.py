"""API shapes of the release calendar (and of a load's answer: a load is the vintage it made)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ReleaseStatus(StrEnum):
    """Whether a vintage's observations reach everyone yet."""

    SCHEDULED = "scheduled"
    """Embargoed until ``release_at``."""
    RELEASED = "released"


class Release(BaseModel):
    """One vintage of a dataflow and its release."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    flow: str
    """The dataflow (``GDP_Q``)."""
    vintage: int
    """The vintage (the load) number; later loads have higher numbers."""
    release_at: datetime
    """When its observations reach everyone (the load time, for a load without embargo)."""
    status: ReleaseStatus
    """``scheduled`` until the release, then ``released``."""
    released_at: datetime | None
    """When the registry released it (wrote the release events)."""
    loaded_at: datetime
    """When it was loaded."""
    series_count: int
    """Series it holds observations of."""
    observation_count: int
    """Observations it holds."""
    revised_count: int
    """Observations that revise a value of an earlier vintage."""
