"""OneSource population registry: the app factory (``uvicorn --factory onesource.population.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

import onesource.population
from onesource.kit.app import ServiceSpec, create_service_app
from onesource.kit.migrations import service_migrations_dir
from onesource.population.imports import checking
from onesource.population.imports.events import REGISTRATIONS, render_registrations
from onesource.population.imports.router import router as imports_router
from onesource.population.models import Base, IdempotencyRecord
from onesource.population.persons.events import PERSON_TOPIC
from onesource.population.persons.router import router as persons_router
from onesource.population.settings import Settings
from onesource.registry.imports.checking import import_checkers

#: The relay's renderers of deferred events: a bulk import's registrations (see ``imports.events``).
RENDERERS = {REGISTRATIONS: render_registrations}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the population app."""
    return create_service_app(
        ServiceSpec(
            name="population",
            title="OneSource population registry",
            description=(
                "人口基础信息库: the authoritative register of persons, keyed by citizen ID number (GB 11643-1999). "
                "Its owning department's registrars write; everyone else reads through the gateway under a grant."
            ),
            settings=settings or Settings(),
            metadata=Base.metadata,
            migrations_dir=service_migrations_dir(onesource.population.__file__),
            routers=[persons_router, imports_router],
            topics=[PERSON_TOPIC],
            renderers=RENDERERS,
            idempotency_record=IdempotencyRecord,
            extensions=[import_checkers(checking.__name__)],
            tags=[
                {"name": "persons", "description": "Person records: register, read, update, death, history, search."},
                {"name": "imports", "description": "Streaming bulk import (CSV / NDJSON) with a per-row report."},
            ],
        )
    )
