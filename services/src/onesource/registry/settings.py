"""Settings every registry has, beside the kit's."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from onesource.kit.settings import ServiceSettings


class PlatformSettings(BaseModel):
    """How a registry calls the platform as a client of its own department (``…_PLATFORM__*``).

    A registry that must read another registry's data (the legal-entity registry asks population whether a legal
    representative is alive) does it like any department: through the gateway, with its own client credentials,
    under its department's grant. The secret is given as a value or as a file the platform's operators (or the local
    mesh, once it has created the client) write; the file is read when a token is needed, so it may appear, and be
    rotated, while the registry runs.
    """

    model_config = ConfigDict(use_attribute_docstrings=True)

    gateway_url: str = "http://127.0.0.1:8000"
    """The gateway's base URL."""
    client_id: str | None = None
    """The registry's client (a ``consumer`` of the owning department); ``None``: the registry calls nobody."""
    client_secret: SecretStr | None = None
    """Its secret; or ``client_secret_file``."""
    client_secret_file: Path | None = None
    """A file holding its secret (surrounding white space ignored)."""
    timeout_seconds: float = Field(default=5.0, gt=0)
    """How long one call through the gateway may take before the registry answers that it cannot know (503)."""


class RegistrySettings(ServiceSettings):
    """A registry's settings: the kit's, the department that owns it, its imports and its platform client."""

    owner_department: str
    """Code of the department that owns this registry: only its registrars write, only it reads whole records
    directly (everyone else reads through the gateway, under a grant)."""
    import_batch_rows: int = Field(default=1000, ge=1)
    """Lines of an import file read and checked per block (an import's memory is bounded by this, not the file)."""
    import_workers: int = Field(default=2, ge=1, le=64)
    """Processes that read and check import files, in parallel with each other and with the database load."""
    import_progress_seconds: float = 1.0
    """How often a running import commits its progress (``GET /v1/imports/{id}``)."""
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    """The registry's own client of the platform, for what it reads from other registries."""
