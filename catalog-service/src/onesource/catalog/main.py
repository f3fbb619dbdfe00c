"""OneSource catalog: the app factory (``uvicorn --factory onesource.catalog.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

import onesource.catalog
from onesource.catalog.departments.consumer import department_consumer
from onesource.catalog.elements.router import router as elements_router
from onesource.catalog.exports.router import router as exports_router
from onesource.catalog.grants.consumer import grant_consumer
from onesource.catalog.models import Base, IdempotencyRecord
from onesource.catalog.registries.events import REGISTRY_TOPIC
from onesource.catalog.registries.router import router as registries_router
from onesource.catalog.reports.router import router as reports_router
from onesource.catalog.resources.events import RESOURCE_TOPIC
from onesource.catalog.resources.router import router as resources_router
from onesource.catalog.settings import Settings
from onesource.kit.app import ServiceSpec, create_service_app
from onesource.kit.migrations import service_migrations_dir


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the catalog app."""
    settings = settings or Settings()
    return create_service_app(
        ServiceSpec(
            name="catalog",
            title="OneSource catalog",
            description="The resource directory (政务信息资源目录): who owns which datum, and on what terms.",
            settings=settings,
            metadata=Base.metadata,
            idempotency_record=IdempotencyRecord,
            migrations_dir=service_migrations_dir(onesource.catalog.__file__),
            routers=[resources_router, registries_router, elements_router, reports_router, exports_router],
            topics=[RESOURCE_TOPIC, REGISTRY_TOPIC],
            consumers=[
                *([grant_consumer] if settings.grant_consumer_enabled else []),
                *([department_consumer] if settings.department_consumer_enabled else []),
            ],
            tags=[
                {
                    "name": "resources",
                    "description": "Directory entries (信息资源): register, change, publish, retire.",
                },
                {
                    "name": "registries",
                    "description": "Registries and the one department that owns each (set by platform admins).",
                },
                {"name": "elements", "description": "Data elements (数据元) and their authoritative sources."},
                {"name": "reports", "description": "Reports for coordinators (避免重复采集)."},
                {"name": "exports", "description": "The published directory as DCAT-AP 3 and as its own form."},
            ],
        )
    )
