"""API shapes of people."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from onesource.gateway.departments.schemas import DepartmentCode
from onesource.kit.auth import Role

USERNAME_PATTERN = r"^[a-z][a-z0-9._-]{2,63}$"

Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
Password = Annotated[str, StringConstraints(min_length=12, max_length=200)]

#: A person's tokens say ``sub`` = this prefix + username: never a client id (those have no colon), so a person
#: and a client can never pass for each other in tokens, audit entries or the revocation list.
PERSON_SUBJECT_PREFIX = "person:"


def subject_of(username: str) -> str:
    """The ``sub`` of a person's tokens."""
    return PERSON_SUBJECT_PREFIX + username


class PersonCreate(BaseModel):
    """A person to give an account."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    username: Username = Field(examples=["zhang.wei"])
    """What the person signs in with: lower-case letters, digits, ``.``, ``_`` and ``-``."""
    department: DepartmentCode = Field(examples=["psb"])
    """Code of the department the person acts for."""
    name: str = Field(min_length=1, max_length=200, examples=["张伟"])
    """The person's name, as shown to others."""
    roles: list[Role] = Field(min_length=1, max_length=5, examples=[["steward"]])
    """Roles granted to the person's tokens."""
    password: Password | None = None
    """An initial password (12 characters or more); generated and answered once when left out."""


class PasswordReset(BaseModel):
    """A new password for a person."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    password: Password | None = None
    """The new password (12 characters or more); generated and answered once when left out."""


class Person(BaseModel):
    """A person's account (the password is never shown)."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    username: str
    """What the person signs in with (``sub`` of the person's tokens is ``person:<username>``)."""
    department: str
    """Code of the department the person acts for (``dept`` of the person's tokens)."""
    name: str
    """The person's name."""
    roles: list[str]
    """Roles granted to the person's tokens."""
    disabled: bool
    """A disabled person cannot sign in, and the tokens the person holds are refused."""
    created_at: datetime
    """When the account was created."""
    password_reset_at: datetime | None
    """When an admin last reset the password."""
    disabled_at: datetime | None
    """When the account was last disabled."""


class PersonWithPassword(Person):
    """A person with a password generated for them: answered only when the gateway made it up."""

    password: str | None
    """The generated password (``null`` when the admin chose it). Shown once: hand it over now."""
