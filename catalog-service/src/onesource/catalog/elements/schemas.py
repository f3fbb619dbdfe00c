"""API shapes of data elements."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ElementOwner(BaseModel):
    """Who owns a datum: the published authoritative field of an element."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    element: str
    """The element code, e.g. ``person.name``."""
    resource: str
    """The resource whose field is authoritative."""
    field: str
    """The authoritative field."""
    provider: str
    """The department providing that resource."""


class Element(BaseModel):
    """An element of the platform vocabulary and its owner, if one is published."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    element: str
    """The element code."""
    resource: str | None
    """The resource whose field is authoritative (``null`` while no owner is published)."""
    field: str | None
    """The authoritative field."""
    provider: str | None
    """The department providing it."""
