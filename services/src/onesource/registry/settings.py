"""Settings every registry has, beside the kit's."""

from __future__ import annotations

from onesource.kit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    """A registry's settings: the kit's, and the department that owns it."""

    owner_department: str
    """Code of the department that owns this registry: only its registrars write, only it reads whole records
    directly (everyone else reads through the gateway, under a grant)."""
