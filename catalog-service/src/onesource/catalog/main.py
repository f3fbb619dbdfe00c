"""OneSource catalog: the app factory (``uvicorn --factory onesource.catalog.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

import onesource.catalog
from onesource.catalog.models import Base
from onesource.catalog.settings import Settings
from onesource.kit.app import ServiceSpec, create_service_app
from onesource.kit.migrations import service_migrations_dir


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the catalog app."""
    return create_service_app(
        ServiceSpec(
            name="catalog",
            title="OneSource catalog",
            description="The resource directory (政务信息资源目录): who owns which datum, and on what terms.",
            settings=settings or Settings(),
            metadata=Base.metadata,
            migrations_dir=service_migrations_dir(onesource.catalog.__file__),
        )
    )
