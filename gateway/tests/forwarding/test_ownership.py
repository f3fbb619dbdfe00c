"""Registry ownership at the gateway (issue 20 §1): a resource covers a registry's paths only when its provider owns
the registry, so a catalog entry another department published over it opens nothing — whatever its paths, however
often it is retired and published again — and never locks the owner out."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from onesource.gateway.resources.schemas import CHANGED, PUBLISHED, RETIRED

from .conftest import (
    EXTENDED_FIELDS,
    PURPOSE,
    ZHANG,
    Broker,
    World,
    audit_rows,
    encoded,
    eventually,
    kind,
    owned,
    resource_document,
    unique,
)

ROGUE_FIELDS = ["id_number", "name", *EXTENDED_FIELDS[1:]]


async def rogue_resource(world: World, provider: str, paths: list[str], **changes: Any) -> dict[str, Any]:
    """Another department's published resource over the world's registry; waits until the gateway holds it."""
    document = resource_document(unique(f"{provider}.mirror-"), provider=provider, paths=paths, fields=ROGUE_FIELDS)
    document.update(changes)
    await world.broker.resource(document, PUBLISHED)
    models = world.app.state.read_models

    async def held() -> bool:
        return models.resources.get(document["id"]) is not None

    await eventually(held)
    return document


async def test_a_resource_over_another_departments_registry_opens_nothing(client, world: World) -> None:
    rogue, reader = unique("rogue"), unique("mca")
    templates = [f"/v1/{world.collection}/{{id_number}}", f"/v1/{world.collection}"]
    mirror = await rogue_resource(world, rogue, templates)
    await world.grant(reader, mirror["id"], ROGUE_FIELDS)  # granted at once: the mirror is unconditional
    consumer = world.callers(reader, encoded(PURPOSE))
    for path in (world.path(ZHANG), world.path()):
        refused = await client.get(path, headers=consumer)
        assert (refused.status_code, kind(refused)) == (403, "no-grant"), refused.text
        assert mirror["id"] not in refused.json()["detail"]
    assert world.registry.calls == [], "nothing reached the registry"
    # The rogue department's own callers are nobody to the registry either.
    for method in ("GET", "PATCH"):
        own = await client.request(method, world.path(ZHANG), headers=world.callers(rogue, "x", roles=["registrar"]))
        assert own.status_code in {403, 405}, own.text
    assert world.registry.calls == []


async def test_other_templates_of_the_same_registry_open_nothing_either(client, world: World) -> None:
    rogue, reader = unique("rogue"), unique("mca")
    templates = [
        f"/v1/{world.collection}/{{id_number}}/history",
        "/v1/imports",
        "/v1/imports/{import_id}/errors",
        "/v1/{collection}/{id_number}",
        "/{rest:path}",
    ]
    mirror = await rogue_resource(world, rogue, templates)
    await world.grant(reader, mirror["id"], ROGUE_FIELDS)
    consumer = world.callers(reader, encoded(PURPOSE))
    for path in (
        world.path(ZHANG) + "/history",
        "/api/population/v1/imports",
        "/api/population/v1/imports/1/errors",
        f"/api/population/v1/other/{ZHANG}",
    ):
        refused = await client.get(path, headers=consumer)
        assert refused.status_code in {403, 404}, (path, refused.text)
    assert world.registry.calls == []


async def test_the_owner_is_not_locked_out_by_another_departments_resource(client, world: World) -> None:
    await rogue_resource(
        world, unique("rogue"), [f"/v1/{world.collection}/{{id_number}}", f"/v1/{world.collection}", "/v1/imports"]
    )
    owner = world.owner()
    read = await client.get(world.path(ZHANG), headers=owner)
    assert read.status_code == 200, read.text
    written = await client.patch(world.path(ZHANG), headers={**owner, "If-Match": '"3"'}, json={"name": "张三丰"})
    assert written.status_code == 200, written.text
    imported = await client.post(
        "/api/population/v1/imports", headers={**owner, "Content-Type": "text/csv"}, content=b"id_number\n"
    )
    assert imported.status_code == 200, imported.text
    # Its audit entries name its own resources only: the rogue one never covered the call.
    [entry] = await audit_rows(world.app, read.headers["x-request-id"])
    assert entry["resources"] == [world.base, world.extended]


async def test_a_retired_then_republished_rogue_resource_stays_ignored(client, world: World) -> None:
    rogue, reader = unique("rogue"), unique("mca")
    mirror = await rogue_resource(world, rogue, [f"/v1/{world.collection}/{{id_number}}"])
    await world.broker.resource({**mirror, "status": "retired", "version": 2}, RETIRED)
    await world.broker.resource({**mirror, "version": 3}, PUBLISHED)
    models = world.app.state.read_models

    async def republished() -> bool:
        entry = models.resources.get(mirror["id"])
        return entry is not None and entry.version == 3

    await eventually(republished)
    await world.grant(reader, mirror["id"], ROGUE_FIELDS)
    refused = await client.get(world.path(ZHANG), headers=world.callers(reader, encoded(PURPOSE)))
    assert (refused.status_code, kind(refused)) == (403, "no-grant")
    assert world.registry.calls == []


async def test_a_resource_whose_provider_changes_later_stops_covering(client, world: World) -> None:
    # The owner's own resource, later announced with another provider (a renamed or re-assigned provider): from then
    # on it is another department's resource over this registry, and its grants open nothing.
    reader = unique("mca")
    await world.grant(reader, world.base, ["id_number", "name"])
    consumer = world.callers(reader, encoded(PURPOSE))
    assert (await client.get(world.path(ZHANG), headers=consumer)).status_code == 200
    renamed = resource_document(
        world.base,
        provider=unique("renamed"),
        paths=[f"/v1/{world.collection}/{{id_number}}", f"/v1/{world.collection}"],
        fields=["id_number", "name"],
        version=2,
    )
    await world.broker.resource(renamed, CHANGED)
    models = world.app.state.read_models

    async def changed() -> bool:
        entry = models.resources.get(world.base)
        return entry is not None and entry.version == 2

    await eventually(changed)
    refused = await client.get(world.path(ZHANG), headers=consumer)
    assert (refused.status_code, kind(refused)) == (403, "no-grant"), refused.text


async def test_a_registry_handed_to_another_department_leaves_the_former_owners_resources_inert(
    client, world: World, caught_up: FastAPI, broker: Broker
) -> None:
    reader, successor = unique("mca"), unique("psb")
    await world.grant(reader, world.base, ["id_number", "name"])
    consumer = world.callers(reader, encoded(PURPOSE))
    assert (await client.get(world.path(ZHANG), headers=consumer)).status_code == 200
    await owned(caught_up, broker, "population", successor)
    calls = len(world.registry.calls)
    refused = await client.get(world.path(ZHANG), headers=consumer)
    assert (refused.status_code, kind(refused)) == (404, "not-covered")
    former = await client.get(world.path(ZHANG), headers=world.owner())
    assert (former.status_code, kind(former)) == (404, "not-covered")
    assert len(world.registry.calls) == calls


async def test_a_registry_without_a_known_owner_serves_nobody(
    client, caught_up: FastAPI, broker: Broker, backends, callers, settings
) -> None:
    # Fail closed: the catalog never named an owner of this registry, so no resource on it covers anything.
    service, provider = unique("registry-"), unique("psb")
    settings.service_urls[service] = f"http://{service}.internal"
    try:
        document = resource_document(
            f"test.{service}",
            provider=provider,
            paths=["/v1/people/{id_number}"],
            fields=["id_number"],
            service=service,
        )
        await broker.resource(document)

        async def held() -> bool:
            return caught_up.state.read_models.resources.get(document["id"]) is not None

        await eventually(held)
        owner = callers(provider, "registry-maintenance", roles=["registrar"])
        refused = await client.get(f"/api/{service}/v1/people/{ZHANG}", headers=owner)
        assert (refused.status_code, kind(refused)) == (404, "not-covered")
        assert backends.requests == []
    finally:
        del settings.service_urls[service]
