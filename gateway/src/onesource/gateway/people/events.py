"""Events of the people domain (never carrying passwords or their hashes)."""

from __future__ import annotations

from typing import ClassVar

from onesource.kit.events import DomainEvent

PERSON_TOPIC = "onesource.identity.person.v1"


class PersonEvent(DomainEvent):
    """Common shape of person events."""

    topic: ClassVar[str] = PERSON_TOPIC
    source: ClassVar[str] = "/onesource/gateway"

    username: str
    """The person."""
    department: str
    """Code of the department the person acts for."""

    def subject(self) -> str:
        """The username."""
        return self.username


class PersonRegistered(PersonEvent):
    """A person's account was created."""

    event_type: ClassVar[str] = "gov.onesource.identity.person.registered.v1"

    name: str
    """The person's name."""
    roles: list[str]
    """Roles granted to the person's tokens."""


class PersonPasswordReset(PersonEvent):
    """An admin gave a person a new password; the old one and the tokens from before no longer work."""

    event_type: ClassVar[str] = "gov.onesource.identity.person.password-reset.v1"


class PersonDisabled(PersonEvent):
    """A person's account was disabled: no sign-in, and every token refused."""

    event_type: ClassVar[str] = "gov.onesource.identity.person.disabled.v1"


class PersonEnabled(PersonEvent):
    """A disabled person's account was enabled again."""

    event_type: ClassVar[str] = "gov.onesource.identity.person.enabled.v1"
