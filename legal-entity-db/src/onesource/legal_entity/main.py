"""OneSource legal-entity registry: the app factory (``uvicorn --factory onesource.legal_entity.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

import onesource.legal_entity
from onesource.kit.app import ServiceSpec, create_service_app
from onesource.kit.migrations import service_migrations_dir
from onesource.legal_entity.models import Base
from onesource.legal_entity.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the legal-entity app."""
    return create_service_app(
        ServiceSpec(
            name="legal-entity",
            title="OneSource legal-entity registry",
            description="法人单位基础信息库: the authoritative register of legal entities.",
            settings=settings or Settings(),
            metadata=Base.metadata,
            migrations_dir=service_migrations_dir(onesource.legal_entity.__file__),
        )
    )
