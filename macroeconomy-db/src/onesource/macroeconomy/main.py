"""OneSource macroeconomy registry: the app factory (``uvicorn --factory onesource.macroeconomy.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

import onesource.macroeconomy
from onesource.kit.app import ServiceSpec, create_service_app
from onesource.kit.migrations import service_migrations_dir
from onesource.macroeconomy.data.router import router as data_router
from onesource.macroeconomy.dataflows.router import router as structure_router
from onesource.macroeconomy.loads.router import router as loads_router
from onesource.macroeconomy.models import Base, IdempotencyRecord
from onesource.macroeconomy.releases.events import RELEASE_TOPIC, REVISION_TOPIC
from onesource.macroeconomy.releases.loop import release_loop
from onesource.macroeconomy.releases.router import router as releases_router
from onesource.macroeconomy.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the macroeconomy app."""
    return create_service_app(
        ServiceSpec(
            name="macroeconomy",
            title="OneSource macroeconomy registry",
            description=(
                "宏观经济基础信息库: statistical dataflows (SDMX), their series and observations, "
                "every load a vintage, with a release calendar and embargo. "
                "Its owning department's registrars load; everyone else reads through the gateway under a grant."
            ),
            settings=settings or Settings(),
            metadata=Base.metadata,
            migrations_dir=service_migrations_dir(onesource.macroeconomy.__file__),
            routers=[data_router, structure_router, loads_router, releases_router],
            topics=[RELEASE_TOPIC, REVISION_TOPIC],
            idempotency_record=IdempotencyRecord,
            extensions=[release_loop],
            tags=[
                {"name": "data", "description": "Data queries (SDMX REST): SDMX-JSON 2.0 or SDMX-CSV 2.0."},
                {"name": "structure", "description": "Structure queries: SDMX-JSON 2.0 structure messages."},
                {"name": "loads", "description": "Loads of SDMX-CSV 2.0 / SDMX-JSON 2.0 data, each a vintage."},
                {"name": "releases", "description": "The release calendar: embargoed and released vintages."},
            ],
        )
    )
