"""OneSource population registry: the app factory (``uvicorn --factory onesource.population.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

import onesource.population
from onesource.kit.app import ServiceSpec, create_service_app
from onesource.kit.migrations import service_migrations_dir
from onesource.population.models import Base
from onesource.population.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the population app."""
    return create_service_app(
        ServiceSpec(
            name="population",
            title="OneSource population registry",
            description="人口基础信息库: the authoritative register of persons.",
            settings=settings or Settings(),
            metadata=Base.metadata,
            migrations_dir=service_migrations_dir(onesource.population.__file__),
        )
    )
