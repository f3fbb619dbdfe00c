"""OneSource exchange: the app factory (``uvicorn --factory onesource.exchange.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

import onesource.exchange
from onesource.exchange.models import Base
from onesource.exchange.settings import Settings
from onesource.kit.app import ServiceSpec, create_service_app
from onesource.kit.migrations import service_migrations_dir


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the exchange app."""
    return create_service_app(
        ServiceSpec(
            name="exchange",
            title="OneSource exchange",
            description="Share requests, grants, subscriptions and filtered event streams (交换).",
            settings=settings or Settings(),
            metadata=Base.metadata,
            migrations_dir=service_migrations_dir(onesource.exchange.__file__),
        )
    )
