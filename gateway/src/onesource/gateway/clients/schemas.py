"""API shapes of clients."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from onesource.gateway.departments.schemas import DepartmentCode
from onesource.kit.auth import Role

CLIENT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,63}$"

ClientId = Annotated[str, StringConstraints(pattern=CLIENT_ID_PATTERN)]


class ClientCreate(BaseModel):
    """A client system to register for a department."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    client_id: ClientId | None = Field(default=None, examples=["civil-affairs-portal"])
    """Wanted client id; generated from the department when left out."""
    department: DepartmentCode = Field(examples=["civil-affairs"])
    """Code of the department the client acts for."""
    name: str = Field(min_length=1, max_length=200, examples=["民政局业务系统"])
    """What the client system is."""
    roles: list[Role] = Field(min_length=1, max_length=5, examples=[["consumer"]])
    """Roles granted to the client's tokens."""


class Client(BaseModel):
    """A registered client (its secret is never shown again)."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    client_id: str
    """The client's id (``client_id`` at the token endpoint, ``sub`` of its tokens)."""
    department: str
    """Code of the department the client acts for (``dept`` of its tokens)."""
    name: str
    """What the client system is."""
    roles: list[str]
    """Roles granted to the client's tokens."""
    disabled: bool
    """A disabled client gets no tokens."""
    created_at: datetime
    """When it was registered."""
    secret_rotated_at: datetime | None
    """When its secret was last replaced."""
    disabled_at: datetime | None
    """When it was last disabled."""


class ClientWithSecret(Client):
    """A client with its secret: answered only on registration and on secret rotation."""

    client_secret: str
    """The secret for the token endpoint. Shown once: store it now."""
