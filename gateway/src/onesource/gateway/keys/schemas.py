"""API shapes of signing keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

KeyState = Literal["active", "retired", "expired"]


class SigningKey(BaseModel):
    """A token signing key, without its private half."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    kid: str
    """Key id, the ``kid`` header of tokens it signed."""
    algorithm: str
    """JWS algorithm (``EdDSA``)."""
    state: KeyState
    """``active`` signs new tokens; ``retired`` still verifies tokens it signed; ``expired`` is no longer published."""
    created_at: datetime
    """When it was created."""
    retired_at: datetime | None
    """When a newer key replaced it."""
    public_jwk: dict[str, Any]
    """Its public JWK (RFC 8037)."""


class Jwks(BaseModel):
    """A JSON Web Key Set (RFC 7517 §5)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    keys: list[dict[str, Any]]
    """Public keys that verify tokens issued now or not yet expired."""
