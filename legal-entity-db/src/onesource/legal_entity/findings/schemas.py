"""API shapes of the findings report."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from onesource.legal_entity.entities.rules import EntityStatus


class Finding(BaseModel):
    """An entity whose record needs its steward's attention because of another registry's change."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    uscc: str
    """The entity."""
    name: str
    """Its registered name."""
    status: EntityStatus
    """Its status."""
    finding: Literal["representative-deceased"] = "representative-deceased"
    """What was found: its legal representative is registered as deceased in population-db."""
    legal_representative_id: str
    """The representative's citizen ID number (the person's record is population-db's)."""
    reported_at: datetime
    """When population-db registered the death (the time of its change event)."""
    noticed_at: datetime
    """When this registry learnt of it."""
