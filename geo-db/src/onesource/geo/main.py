"""OneSource geospatial registry: the app factory (``uvicorn --factory onesource.geo.main:create_app``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import onesource.geo
from onesource.geo.addresses.events import ADDRESS_TOPIC
from onesource.geo.addresses.router import router as addresses_router
from onesource.geo.divisions.events import DIVISION_TOPIC
from onesource.geo.divisions.loading import load
from onesource.geo.divisions.router import router as divisions_router
from onesource.geo.features.router import router as features_router
from onesource.geo.imports.router import router as imports_router
from onesource.geo.models import Base, IdempotencyRecord
from onesource.geo.parcels.events import PARCEL_TOPIC
from onesource.geo.parcels.router import router as parcels_router
from onesource.geo.settings import Settings
from onesource.kit.app import ServiceSpec, create_service_app
from onesource.kit.migrations import service_migrations_dir


@asynccontextmanager
async def divisions_loaded(app: FastAPI) -> AsyncIterator[None]:
    """Bring the division table level with the shared GB/T 2260 data before serving (``divisions.loading``)."""
    async with app.state.sessionmaker() as session, session.begin():
        await load(session)
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the geo app."""
    return create_service_app(
        ServiceSpec(
            name="geo",
            title="OneSource geospatial registry",
            description=(
                "地理空间基础信息库: GB/T 2260 divisions by date, addresses (GB/T 23705 levels) with their points and "
                "parcels (宗地) with their boundaries, GB/T 21010-2017 land use and geodesic area, on PostGIS. "
                "Answers are GeoJSON (RFC 7946) in CGCS2000, or GCJ-02 for display (``?crs=gcj02``); OGC API – "
                "Features Part 1 core at ``/v1/collections``."
            ),
            settings=settings or Settings(),
            metadata=Base.metadata,
            migrations_dir=service_migrations_dir(onesource.geo.__file__),
            routers=[divisions_router, addresses_router, parcels_router, features_router, imports_router],
            topics=[DIVISION_TOPIC, ADDRESS_TOPIC, PARCEL_TOPIC],
            idempotency_record=IdempotencyRecord,
            extensions=[divisions_loaded],
            tags=[
                {"name": "divisions", "description": "GB/T 2260 administrative divisions, answered by date."},
                {"name": "addresses", "description": "Addresses: register, read, change, retire, history, nearby."},
                {"name": "parcels", "description": "Parcels (宗地): register, read, change, retire, history, search."},
                {"name": "imports", "description": "Bulk registration of a FeatureCollection (the owner's)."},
                {"name": "features", "description": "OGC API – Features – Part 1: Core (addresses, parcels)."},
            ],
        )
    )
