"""The catalog read model, fed by the catalog's resource events through the real broker."""

from __future__ import annotations

import asyncio
import time
import uuid

from onesource.exchange.resources import repository

TOPIC = "onesource.catalog.resource.v1"
CATALOG = "gov.onesource.catalog.resource"


async def wait_for(exchange_app, resource_id: str, check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        async with exchange_app.state.sessionmaker() as session:
            found = await repository.get(session, resource_id)
        if found is not None and check(found):
            return found
        assert time.monotonic() < deadline, f"read model never satisfied the check for {resource_id}"
        await asyncio.sleep(0.2)


async def test_catalog_events_keep_the_latest_version(
    exchange_app, producer, publisher, event_builder, make_document, committed_client, callers
) -> None:
    resource_id = f"cat{uuid.uuid4().hex[:8]}.person"
    provider = f"p{uuid.uuid4().hex[:8]}"  # committed: keep clear of the rolled-back tests' departments

    async def send(verb: str, version: int, **options) -> None:
        document = make_document(resource_id, version=version, provider=provider, **options)
        await publisher(producer, TOPIC, event_builder(f"{CATALOG}.{verb}.v1", resource_id, document))

    await send("published", 2, fields=["id_number", "name"], share_type="unconditional")
    await wait_for(exchange_app, resource_id, lambda found: found.version == 2)
    # a late, older version is ignored
    await send("changed", 1, fields=["id_number"], share_type="not_shared")
    await send("changed", 3, fields=["id_number", "name", "sex"], share_type="unconditional")
    found = await wait_for(exchange_app, resource_id, lambda found: found.version == 3)
    assert found.field_names == ["id_number", "name", "sex"]
    assert found.share_type == "unconditional"
    assert found.document["provider"] == provider

    consumer = callers(f"c{uuid.uuid4().hex[:6]}", "consumer")
    body = {"resource": resource_id, "fields": ["sex"], "purpose": "审核"}
    granted = await committed_client.post("/v1/share-requests", json=body, headers=consumer)
    assert granted.status_code == 201, granted.text

    await send("retired", 3, fields=["id_number", "name", "sex"])
    await wait_for(exchange_app, resource_id, lambda found: found.status == "retired")
    refused = await committed_client.post("/v1/share-requests", json=body, headers=consumer)
    assert refused.status_code == 409
