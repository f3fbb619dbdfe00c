"""Every SQL statement of the exports domain."""

from __future__ import annotations

from sqlalchemy import Select, select

from onesource.catalog.models import Resource


def published() -> Select[tuple[Resource]]:
    """The published resources (the caller orders and pages them)."""
    return select(Resource).where(Resource.status == "published")
