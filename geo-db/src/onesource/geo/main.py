"""OneSource geospatial registry: the app factory (``uvicorn --factory onesource.geo.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

import onesource.geo
from onesource.geo.models import Base
from onesource.geo.settings import Settings
from onesource.kit.app import ServiceSpec, create_service_app
from onesource.kit.migrations import service_migrations_dir


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the geo app."""
    return create_service_app(
        ServiceSpec(
            name="geo",
            title="OneSource geospatial registry",
            description="地理空间基础信息库: divisions, addresses and parcels.",
            settings=settings or Settings(),
            metadata=Base.metadata,
            migrations_dir=service_migrations_dir(onesource.geo.__file__),
        )
    )
