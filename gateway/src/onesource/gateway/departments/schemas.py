"""API shapes of departments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

DEPARTMENT_CODE_PATTERN = r"^[a-z][a-z0-9-]{1,31}$"

DepartmentCode = Annotated[str, StringConstraints(pattern=DEPARTMENT_CODE_PATTERN)]


class DepartmentCreate(BaseModel):
    """A department to register."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    code: DepartmentCode = Field(examples=["public-security"])
    """Short slug naming the department in paths, tokens (``dept``) and topics."""
    name: str = Field(min_length=1, max_length=200, examples=["市公安局"])
    """Official name."""
    uscc: str = Field(max_length=64, examples=["91110000600037341L"])
    """Unified social credit code (GB 32100-2015, 18 characters, check character verified)."""


class Department(BaseModel):
    """A registered department."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    code: str
    """Short slug naming the department."""
    name: str
    """Official name."""
    uscc: str
    """Unified social credit code (GB 32100-2015)."""
    created_at: datetime
    """When it was registered."""
