"""API shapes of divisions."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

Level = Literal["province", "prefecture", "county"]


class Division(BaseModel):
    """A GB/T 2260 division as it was on the date asked about."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    code: str
    """Six-digit GB/T 2260 code: 2 province + 2 prefecture + 2 county digits."""
    name: str
    """Official name on that date."""
    level: Level
    """``province``, ``prefecture`` or ``county`` (read from the shape of the code)."""
    parent: str | None
    """The division directly above on that date (a county directly under a province has the province); ``null``
    for a province."""
    valid_from: date | None
    """First day this name held for this code; ``null``: already so in the first edition (1981)."""
    valid_to: date | None
    """First day it no longer held (exclusive); ``null``: still so in the last edition (2024)."""


class DivisionName(BaseModel):
    """One name a code had, and the dates it held."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    code: str
    """Six-digit GB/T 2260 code."""
    name: str
    """Official name."""
    level: Level
    """Level of the code."""
    valid_from: date | None
    """First day it held (``null``: before the first edition)."""
    valid_to: date | None
    """First day it no longer held (``null``: still in the last edition)."""
