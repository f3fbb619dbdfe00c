"""The projector's test world: one registry resource per test, its provider and consumers, API and broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

PERSON = "gov.onesource.population.person"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def person(key: str, **values: Any) -> dict[str, Any]:
    record = {
        "id_number": key,
        "name": "张三",
        "sex": "1",
        "ethnicity": "01",
        "birth_date": "1949-12-31",
        "deceased": False,
        "household_region_code": "110105",
        "household_address": "北京市朝阳区",
        "marital_status": "20",
    }
    record.update(values)
    return record


class World:
    """One test's registry resource, its provider and consumers, driven through the API and the broker."""

    def __init__(self, client, callers, add_resource, producer, publish, cloud_event) -> None:
        self.client = client
        self.callers = callers
        self.add_resource = add_resource
        self.producer = producer
        self._publish = publish
        self._cloud_event = cloud_event
        self.resource = unique("t") + ".person"
        self.topic = f"onesource.{self.resource}.v1"
        self.provider = unique("psb")

    async def publish_resource(self, share_type: str = "unconditional") -> None:
        await self.add_resource(self.resource, provider=self.provider, share_type=share_type, topic=self.topic)

    async def grant(self, department: str, fields: list[str], row_scope: dict | None = None) -> dict:
        body: dict[str, Any] = {"resource": self.resource, "fields": fields, "purpose": "审核"}
        if row_scope is not None:
            body["row_scope"] = row_scope
        response = await self.client.post("/v1/share-requests", json=body, headers=self.callers(department, "consumer"))
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "granted"
        return response.json()

    async def subscribe(self, department: str, delivery: str = "feed") -> dict:
        response = await self.client.post(
            "/v1/subscriptions",
            json={"resource": self.resource, "delivery": delivery},
            headers=self.callers(department, "consumer"),
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def emit(self, verb: str, key: str, record: dict[str, Any], changes: dict[str, Any] | None = None) -> dict:
        data: dict[str, Any] = {"record": record}
        if changes is not None:
            data["changes"] = changes
        event = self._cloud_event(f"{PERSON}.{verb}.v1", key, data, source="/onesource/population")
        await self._publish(self.producer, self.topic, event)
        return event

    async def feed(self, subscription: dict, department: str, *, after: str | None = None, wait: float = 0) -> dict:
        params: dict[str, Any] = {"wait": wait}
        if after is not None:
            params["after"] = after
        response = await self.client.get(
            f"/v1/subscriptions/{subscription['id']}/events",
            params=params,
            headers=self.callers(department, "consumer"),
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def feed_until(self, subscription: dict, department: str, count: int, timeout: float = 30.0) -> list[dict]:
        items: list[dict] = []
        cursor = None
        deadline = time.monotonic() + timeout
        while len(items) < count:
            assert time.monotonic() < deadline, f"got {len(items)} of {count} deliveries"
            page = await self.feed(subscription, department, after=cursor, wait=2)
            items.extend(page["items"])
            cursor = page["next_cursor"]
        return items

    unique = staticmethod(lambda prefix: unique(prefix))
    person = staticmethod(lambda key, **values: person(key, **values))


@pytest.fixture
def world_factory(committed_client, callers, add_resource, producer, publisher, event_builder) -> Callable[[], World]:
    return lambda: World(committed_client, callers, add_resource, producer, publisher, event_builder)


@pytest.fixture
def world(world_factory) -> World:
    return world_factory()
