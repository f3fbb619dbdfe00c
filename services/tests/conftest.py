from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from fastapi import FastAPI
from kit_widgets.app import MIGRATIONS, create_app

from onesource.kit.settings import ServiceSettings
from onesource.kit.testing.plugin import Infrastructure, api_client, prepare_service_database, running_app
from onesource.kit.testing.tokens import TestTokens


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def widgets_dsn(infrastructure: Infrastructure) -> str:
    return await prepare_service_database(infrastructure, "widgets", MIGRATIONS)


def widget_settings(infrastructure: Infrastructure, dsn: str, **overrides: object) -> ServiceSettings:
    return ServiceSettings.model_validate(
        {
            "environment": "test",
            "database_url": dsn,
            "kafka": infrastructure.kafka,
            "relay_poll_seconds": 0.2,
            **overrides,
        }
    )


@pytest_asyncio.fixture(loop_scope="session")
async def widgets_app(infrastructure: Infrastructure, widgets_dsn: str, tokens: TestTokens) -> AsyncIterator[FastAPI]:
    app = create_app(widget_settings(infrastructure, widgets_dsn))
    async with running_app(app, tokens):
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def client(widgets_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(widgets_app) as http:
        yield http
