"""Catalog test fixtures: a migrated database, one running app per session, a rolled-back transaction per test."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from onesource.catalog.main import create_app
from onesource.catalog.models import Department, Registry
from onesource.catalog.settings import Settings
from onesource.kit.testing.plugin import Infrastructure, api_client, prepare_service_database, rolled_back, running_app
from onesource.kit.testing.tokens import TestTokens

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
RESOURCES = "/v1/resources"

#: Departments of the tests: population data belongs to public security, companies to market regulation.
POLICE = "public-security"
MARKET = "market-regulation"
CIVIL = "civil-affairs"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def catalog_database(infrastructure: Infrastructure) -> str:
    return await prepare_service_database(infrastructure, "catalog", MIGRATIONS)


@pytest.fixture(scope="session")
def settings(catalog_database: str, infrastructure: Infrastructure) -> Settings:
    return Settings(
        database_url=SecretStr(catalog_database),
        relay_enabled=False,
        kafka=infrastructure.kafka,
        public_base_url="https://onesource.example.gov.cn",
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def catalog_app(settings: Settings, tokens: TestTokens) -> AsyncIterator[FastAPI]:
    async with running_app(create_app(settings), tokens) as app:
        yield app


#: The departments the gateway announced (code, name, USCC after GB 32100-2015): the providers a resource may name.
DEPARTMENTS = {
    POLICE: ("公安局", "11110000000011017C"),
    MARKET: ("市场监督管理局", "111100000000110257"),
    CIVIL: ("民政局", "11110000000011068L"),
}

#: Who owns the registries the tests describe (platform admins set this in the catalog: ``PUT /v1/registries``).
REGISTRY_OWNERS = {"population": POLICE, "legal-entity": MARKET}


@pytest_asyncio.fixture(loop_scope="session")
async def connection(catalog_app: FastAPI) -> AsyncIterator[AsyncConnection]:
    async with rolled_back(catalog_app) as connection:
        now = datetime.now(UTC)
        await connection.execute(
            insert(Registry),
            [
                {"service": service, "owner": owner, "version": 1, "updated_by": "admin", "updated_at": now}
                for service, owner in REGISTRY_OWNERS.items()
            ],
        )
        await connection.execute(
            insert(Department),
            [{"code": code, "name": name, "uscc": uscc} for code, (name, uscc) in DEPARTMENTS.items()],
        )
        yield connection


@pytest_asyncio.fixture(loop_scope="session")
async def client(catalog_app: FastAPI, connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(catalog_app) as http:
        yield http


@pytest.fixture
def police_steward(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("police-steward", POLICE, ["steward"])


@pytest.fixture
def market_steward(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("market-steward", MARKET, ["steward"])


@pytest.fixture
def consumer(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("civil-system", CIVIL, ["consumer"])


@pytest.fixture
def coordinator(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("big-data-coordinator", "big-data", ["coordinator"])


@pytest.fixture
def admin(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("admin", "platform", ["admin"])


PERSON: dict[str, Any] = {
    "id": "population.person",
    "name": "人口基础信息",
    "summary": "全市户籍人口和常住人口的基础信息，由公安机关登记维护。Basic person records of the population registry.",
    "provider": POLICE,
    "category": "base",
    "format": "api/json",
    "update_cycle": "realtime",
    "share_type": "unconditional",
    "service": "population",
    "paths": ["/v1/persons/{id_number}", "/v1/persons"],
    "key": "id_number",
    "topic": "onesource.population.person.v1",
    "fields": [
        {
            "name": "id_number",
            "element": "person.id_number",
            "data_type": "C",
            "length": 18,
            "description": "公民身份号码",
            "authoritative": True,
        },
        {
            "name": "name",
            "element": "person.name",
            "data_type": "C",
            "length": 50,
            "description": "姓名",
            "authoritative": True,
        },
        {
            "name": "household_address",
            "element": "person.household_address",
            "data_type": "C",
            "length": 200,
            "description": "户籍地址",
            "authoritative": True,
        },
        {"name": "birth_date", "element": "person.birth_date", "data_type": "D", "authoritative": True},
    ],
}

COMPANY: dict[str, Any] = {
    "id": "legal-entity.company",
    "name": "法人单位基础信息",
    "summary": "Legal entities registered with market regulation, with their legal representative.",
    "provider": MARKET,
    "category": "base",
    "format": "api/json",
    "update_cycle": "daily",
    "share_type": "conditional",
    "share_condition": "仅用于行政审批与监管",
    "service": "legal-entity",
    "paths": ["/v1/entities/{uscc}"],
    "key": "uscc",
    "topic": "onesource.legal-entity.entity.v1",
    "fields": [
        {
            "name": "uscc",
            "element": "entity.uscc",
            "data_type": "C",
            "length": 18,
            "description": "统一社会信用代码",
            "authoritative": True,
        },
        {
            "name": "representative_name",
            "element": "entity.representative_name",
            "data_type": "C",
            "length": 50,
            "description": "法定代表人姓名 (copied from the population registry)",
            "source_element": "person.name",
        },
    ],
}


Builder = Callable[..., dict[str, Any]]


def build_person(**changes: Any) -> dict[str, Any]:
    """The population.person resource, with ``changes``."""
    return {**copy.deepcopy(PERSON), **changes}


def build_company(**changes: Any) -> dict[str, Any]:
    """The legal-entity.company resource, with ``changes``."""
    return {**copy.deepcopy(COMPANY), **changes}


@pytest.fixture
def person() -> Builder:
    """Builds the population.person resource document (keyword arguments replace attributes)."""
    return build_person


@pytest.fixture
def company() -> Builder:
    """Builds the legal-entity.company resource document (keyword arguments replace attributes)."""
    return build_company


class Catalog:
    """Drives the resource API of the app under test."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def create(self, document: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        response = await self.http.post(RESOURCES, json=document, headers=headers)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def publish(self, resource_id: str, headers: dict[str, str]) -> dict[str, Any]:
        response = await self.http.post(f"{RESOURCES}/{resource_id}/publish", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def published(self, document: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        await self.create(document, headers)
        return await self.publish(document["id"], headers)


@pytest.fixture
def catalog(client: httpx.AsyncClient) -> Catalog:
    return Catalog(client)
