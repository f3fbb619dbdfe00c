"""OneSource exchange: the app factory (``uvicorn --factory onesource.exchange.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

import onesource.exchange
from onesource.exchange.corrections.events import CORRECTION_TOPIC
from onesource.exchange.corrections.router import router as corrections_router
from onesource.exchange.grants.events import GRANT_TOPIC
from onesource.exchange.grants.router import router as grants_router
from onesource.exchange.models import Base
from onesource.exchange.projector.consumer import projector
from onesource.exchange.resources.service import REGISTRY_TOPIC, RESOURCE_TOPIC, apply_catalog_event
from onesource.exchange.settings import Settings
from onesource.exchange.share_requests.events import SHARE_REQUEST_TOPIC
from onesource.exchange.share_requests.router import router as share_requests_router
from onesource.exchange.statistics.router import router as statistics_router
from onesource.exchange.subscriptions.feed import delivery_notifier
from onesource.exchange.subscriptions.router import router as subscriptions_router
from onesource.exchange.sweeper import sweeper
from onesource.kit.app import ConsumerFactory, Extension, ServiceSpec, create_service_app
from onesource.kit.consumer import EventConsumer
from onesource.kit.migrations import service_migrations_dir

CATALOG_CONSUMER = "exchange-catalog"


def catalog_consumer(app: FastAPI) -> EventConsumer:
    """Keeps the catalog read model from the catalog's resource and registry events."""
    settings: Settings = app.state.settings
    return EventConsumer(
        name=CATALOG_CONSUMER,
        topics=[RESOURCE_TOPIC, REGISTRY_TOPIC],
        kafka=settings.kafka,
        sessionmaker=app.state.sessionmaker,
        handler=apply_catalog_event,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the exchange app."""
    settings = settings or Settings()
    consumers: list[ConsumerFactory] = [catalog_consumer] if settings.catalog_consumer_enabled else []
    extensions: list[Extension] = [delivery_notifier]
    if settings.projector_enabled:
        extensions.append(projector)
    if settings.sweeper_enabled:
        extensions.append(sweeper)
    return create_service_app(
        ServiceSpec(
            name="exchange",
            title="OneSource exchange",
            description="Share requests, grants, subscriptions and filtered event streams (交换).",
            settings=settings,
            metadata=Base.metadata,
            migrations_dir=service_migrations_dir(onesource.exchange.__file__),
            routers=[
                share_requests_router,
                grants_router,
                subscriptions_router,
                corrections_router,
                statistics_router,
            ],
            topics=[SHARE_REQUEST_TOPIC, GRANT_TOPIC, CORRECTION_TOPIC],
            consumers=consumers,
            extensions=extensions,
            tags=[
                {"name": "share-requests", "description": "Share requests: ask, answer, confirm, dispute, mediate."},
                {"name": "grants", "description": "Grants: what each department may read, until when."},
                {"name": "subscriptions", "description": "Standing orders for change events, and their feed."},
                {"name": "corrections", "description": "Reports of suspect data to their owners (校核)."},
                {"name": "statistics", "description": "Sharing statistics for the coordinators."},
            ],
        )
    )
