"""API shapes of bulk registrations: a FeatureCollection of addresses or of parcels, and what became of it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The features one bulk registration takes at most (one transaction).
MAX_FEATURES = 1000


class FeatureImportCreate(BaseModel):
    """Features to register together: a GeoJSON FeatureCollection, each feature as ``POST /v1/<collection>`` takes."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    type: Literal["FeatureCollection"]
    """Always ``FeatureCollection``."""
    features: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_FEATURES)
    """The features, each a registration of the collection named in the query."""


class FeatureImport(BaseModel):
    """A bulk registration: all its features were registered in one transaction."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: str
    """The import's id."""
    collection: Literal["addresses", "parcels"]
    """Which records it registered."""
    client_id: str
    """Who sent it."""
    department: str
    """For which department."""
    features: int
    """How many features it registered."""
    created_at: datetime
    """When."""

    @field_validator("id", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, uuid.UUID) else value
