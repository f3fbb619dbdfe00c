"""Events of the clients domain (never carrying secrets or their hashes)."""

from __future__ import annotations

from typing import ClassVar

from onesource.kit.events import DomainEvent

CLIENT_TOPIC = "onesource.identity.client.v1"


class ClientEvent(DomainEvent):
    """Common shape of client events."""

    topic: ClassVar[str] = CLIENT_TOPIC
    source: ClassVar[str] = "/onesource/gateway"

    client_id: str
    """The client."""
    department: str
    """Code of the department the client acts for."""

    def subject(self) -> str:
        """The client id."""
        return self.client_id


class ClientRegistered(ClientEvent):
    """A client was registered."""

    event_type: ClassVar[str] = "gov.onesource.identity.client.registered.v1"

    name: str
    """What the client system is."""
    roles: list[str]
    """Roles granted to its tokens."""


class ClientSecretRotated(ClientEvent):
    """A client's secret was replaced; the old one no longer works."""

    event_type: ClassVar[str] = "gov.onesource.identity.client.secret-rotated.v1"


class ClientDisabled(ClientEvent):
    """A client was disabled and gets no more tokens."""

    event_type: ClassVar[str] = "gov.onesource.identity.client.disabled.v1"


class ClientEnabled(ClientEvent):
    """A disabled client was enabled again."""

    event_type: ClassVar[str] = "gov.onesource.identity.client.enabled.v1"
