"""OneSource legal-entity registry: the app factory (``uvicorn --factory onesource.legal_entity.main:create_app``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import onesource.legal_entity
from onesource.kit.app import ConsumerFactory, ServiceSpec, create_service_app
from onesource.kit.migrations import service_migrations_dir
from onesource.legal_entity import imports
from onesource.legal_entity.entities.events import ENTITY_TOPIC
from onesource.legal_entity.entities.router import router as entities_router
from onesource.legal_entity.findings.consumer import person_consumer
from onesource.legal_entity.findings.router import router as findings_router
from onesource.legal_entity.imports import RENDERERS
from onesource.legal_entity.imports import router as imports_router
from onesource.legal_entity.models import Base, IdempotencyRecord
from onesource.legal_entity.representatives import RepresentativeCheck
from onesource.legal_entity.settings import Settings
from onesource.registry.imports.checking import import_checkers
from onesource.registry.platform import PlatformClient


@asynccontextmanager
async def representative_check(app: FastAPI) -> AsyncIterator[None]:
    """The check of legal representatives in population-db, through the gateway (``app.state.representative_check``)."""
    settings: Settings = app.state.settings
    app.state.representative_check = RepresentativeCheck.of(PlatformClient(settings.platform, app.state.http), settings)
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the legal-entity app."""
    settings = settings or Settings()
    consumers: list[ConsumerFactory] = [person_consumer] if settings.findings_enabled else []
    return create_service_app(
        ServiceSpec(
            name="legal-entity",
            title="OneSource legal-entity registry",
            description=(
                "法人单位基础信息库: the authoritative register of legal entities, keyed by unified social credit code "
                "(GB 32100-2015). Its owning department's registrars write; everyone else reads through the gateway "
                "under a grant. Legal representatives are checked live in the population registry, through the "
                "gateway, under the owner's own grant."
            ),
            settings=settings,
            metadata=Base.metadata,
            migrations_dir=service_migrations_dir(onesource.legal_entity.__file__),
            routers=[entities_router, imports_router, findings_router],
            topics=[ENTITY_TOPIC],
            renderers=RENDERERS,
            consumers=consumers,
            idempotency_record=IdempotencyRecord,
            extensions=[representative_check, import_checkers(imports.__name__)],
            tags=[
                {
                    "name": "entities",
                    "description": "Entity records: register, read, update, status lifecycle, history, search.",
                },
                {"name": "imports", "description": "Streaming bulk import (CSV / NDJSON) with a per-row report."},
                {
                    "name": "findings",
                    "description": "What other registries' changes mean for entities (a representative's death).",
                },
            ],
        )
    )
