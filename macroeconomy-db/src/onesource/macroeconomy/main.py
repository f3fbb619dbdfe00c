"""OneSource macroeconomy registry: the app factory (``uvicorn --factory onesource.macroeconomy.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

import onesource.macroeconomy
from onesource.kit.app import ServiceSpec, create_service_app
from onesource.kit.migrations import service_migrations_dir
from onesource.macroeconomy.models import Base
from onesource.macroeconomy.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the macroeconomy app."""
    return create_service_app(
        ServiceSpec(
            name="macroeconomy",
            title="OneSource macroeconomy registry",
            description="宏观经济基础信息库: statistical dataflows, series and observations.",
            settings=settings or Settings(),
            metadata=Base.metadata,
            migrations_dir=service_migrations_dir(onesource.macroeconomy.__file__),
        )
    )
