"""Data calls through the one door: the checks in their order, owners, grants, purposes, masking, audit."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
from fastapi import FastAPI, Response

from onesource.gateway.forwarding.limits import BodyDigest, TokenBuckets
from onesource.gateway.forwarding.service import request_hash
from onesource.gateway.grants.schemas import REVOKED

from .conftest import (
    BASE_FIELDS,
    LI,
    METADATA,
    OTHER_PURPOSE,
    PEOPLE,
    PURPOSE,
    WANG,
    ZHANG,
    Backends,
    Broker,
    Callers,
    Registry,
    World,
    audit_rows,
    encoded,
    eventually,
    grant_document,
    kind,
    owned,
    resource_document,
    routed,
    unique,
)


async def test_the_owner_reads_and_writes_its_records_as_they_are(client, world: World) -> None:
    owner = world.owner()
    read = await client.get(world.path(ZHANG), headers=owner)
    assert read.status_code == 200, read.text
    assert read.json() == world.registry.records[world.collection][ZHANG]  # unmasked, metadata included
    assert read.headers["etag"] == '"3"'
    written = await client.patch(world.path(ZHANG), headers={**owner, "If-Match": '"3"'}, json={"name": "张三丰"})
    assert written.status_code == 200
    assert written.json()["method"] == "PATCH"
    # The registry saw the owner's own token both times.
    assert {call[2]["authorization"] for call in world.registry.calls} == {owner["Authorization"]}
    [entry] = await audit_rows(world.app, read.headers["x-request-id"])
    assert (entry["client_id"], entry["department"], entry["purpose"]) == (
        f"{world.provider}-registrar",
        world.provider,
        "registry-maintenance",
    )
    assert entry["resources"] == [world.base, world.extended]
    assert entry["record_keys"] == [ZHANG]
    assert entry["grant_ids"] == []
    assert set(entry["fields"]) == set(PEOPLE[0]) | METADATA


@contextlib.asynccontextmanager
async def registry_of_its_own(
    caught_up: FastAPI, broker: Broker, backends: Backends, settings
) -> AsyncIterator[tuple[str, str, Registry]]:
    """A registry service whose one resource one department provides (as psb does for population): its name, that
    department, and the registry."""
    service, provider = unique("registry-"), unique("psb")
    registry = Registry()
    settings.service_urls[service] = f"http://{service}.internal"
    backends.serve(settings.service_urls[service], registry.app)
    try:
        await owned(caught_up, broker, service, provider)
        document = resource_document(
            f"test.{service}", provider=provider, paths=["/v1/people/{id_number}"], fields=BASE_FIELDS, service=service
        )
        await broker.resource(document)

        async def published() -> bool:
            return caught_up.state.read_models.resources.get(document["id"]) is not None

        await eventually(published)
        yield service, provider, registry
    finally:
        del settings.service_urls[service]


async def test_the_owner_reaches_its_registry_where_no_resource_covers_the_path(
    client, caught_up: FastAPI, broker: Broker, backends: Backends, callers: Callers, settings
) -> None:
    async with registry_of_its_own(caught_up, broker, backends, settings) as (service, provider, _):
        owner = callers(provider, "registry-maintenance", roles=["registrar"])
        imported = await client.post(
            f"/api/{service}/v1/imports", headers={**owner, "Content-Type": "text/csv"}, content=b"a,b\n"
        )
        assert imported.status_code == 200
        assert imported.json() == {"method": "POST", "body": "a,b\n"}
        refused = await client.get(f"/api/{service}/v1/imports", headers=callers(unique("mca"), encoded(PURPOSE)))
        assert refused.status_code == 404
        assert kind(refused) == "not-covered"
        [entry] = await audit_rows(caught_up, imported.headers["x-request-id"])
        assert (entry["status"], entry["resources"], entry["department"]) == (200, [], provider)


def hash_of(method: str, target: str, purpose: str | None, body: bytes) -> str:
    digest = BodyDigest()
    digest.update(body)
    return request_hash(method, target, purpose, digest)


async def test_an_owners_upload_larger_than_a_body_is_streamed_to_its_registry_whole(
    client, caught_up: FastAPI, broker: Broker, backends: Backends, callers: Callers, settings
) -> None:
    async with registry_of_its_own(caught_up, broker, backends, settings) as (service, provider, registry):
        owner = {**callers(provider, "registry-maintenance", roles=["registrar"]), "Content-Type": "text/csv"}
        target = f"/api/{service}/v1/imports"
        upload = b"id_number,name\n" + b"11010519491231002X,\xe7\x8e\x8b\xe6\x98\x8e\n" * 60_000  # 1.7 MB
        assert len(upload) > settings.max_body_bytes

        async def pieces():  # chunked: no length declared
            for start in range(0, len(upload), 65536):
                yield upload[start : start + 65536]

        for content in (pieces(), upload):  # chunked, then with its Content-Length
            response = await client.post(target, headers=owner, content=content)
            assert response.status_code == 200, response.text
            assert response.json() == {"method": "POST", "body": upload.decode()}, "the registry got all of it"
            [entry] = await audit_rows(caught_up, response.headers["x-request-id"])
            assert entry["request_hash"] == hash_of("POST", target, "registry-maintenance", upload)
        assert len(registry.calls) == 2

        # Anyone else's upload is refused before anything reaches a registry, as is an owner's to a resource's path.
        stranger = callers(unique("mca"), encoded(PURPOSE))
        refused = await client.post(target, headers={**stranger, "Content-Type": "text/csv"}, content=pieces())
        assert (refused.status_code, kind(refused)) == (404, "not-covered")
        covered = await client.post(f"/api/{service}/v1/people/{ZHANG}", headers=owner, content=pieces())
        assert (covered.status_code, kind(covered)) == (413, "content-too-large")
        assert len(registry.calls) == 2


async def test_an_upload_over_the_upload_limit_is_refused_and_broken_off(
    client, caught_up: FastAPI, broker: Broker, backends: Backends, callers: Callers, settings
) -> None:
    async with registry_of_its_own(caught_up, broker, backends, settings) as (service, provider, registry):
        owner = {**callers(provider, "registry-maintenance", roles=["registrar"]), "Content-Type": "text/csv"}
        target = f"/api/{service}/v1/imports"
        original = caught_up.state.settings
        caught_up.state.settings = original.model_copy(update={"max_upload_bytes": original.max_body_bytes * 2})
        try:
            too_big = b"x" * (original.max_body_bytes * 2 + 1)
            declared = await client.post(target, headers=owner, content=too_big)
            assert (declared.status_code, kind(declared)) == (413, "content-too-large")
            assert registry.calls == [], "a declared length over the limit goes nowhere"

            async def pieces():
                for start in range(0, len(too_big), 65536):
                    yield too_big[start : start + 65536]

            streamed = await client.post(target, headers=owner, content=pieces())
            assert (streamed.status_code, kind(streamed)) == (413, "content-too-large")
            [entry] = await audit_rows(caught_up, streamed.headers["x-request-id"])
            assert entry["status"] == 413
        finally:
            caught_up.state.settings = original


async def test_a_consumer_sees_the_union_of_its_grants_for_the_purpose(client, world: World) -> None:
    department = unique("mca")
    on_base = await world.grant(department, world.base, ["id_number", "name", "version"])
    on_extended = await world.grant(department, world.extended, ["id_number", "household_address"])
    await world.grant(department, world.extended, ["marital_status"], purpose=OTHER_PURPOSE)
    consumer = world.callers(department, encoded(PURPOSE), client_id=f"{department}-portal")

    read = await client.get(world.path(ZHANG), headers=consumer)
    assert read.status_code == 200, read.text
    assert read.json() == {"id_number": ZHANG, "name": "张三", "household_address": "北京市朝阳区"}
    assert "etag" not in read.headers  # metadata never reaches a non-owner, even when a grant names it
    assert read.headers["content-type"] == "application/json"

    # The registry got the gateway's own token acting for the department, and the same one the second time.
    again = await client.get(world.path(LI), headers=consumer)
    assert again.status_code == 200
    sent = [call[2]["authorization"].removeprefix("Bearer ") for call in world.registry.calls]
    assert len(set(sent)) == 1
    principal = await world.app.state.token_verifier.verify(sent[0])
    assert (principal.client_id, principal.department, principal.roles) == ("gateway", department, {"gateway"})
    claims = jwt.decode(sent[0], options={"verify_signature": False})
    assert claims["act"] == {"sub": f"{department}-portal"}
    assert claims["exp"] - claims["iat"] == 60

    [entry] = await audit_rows(world.app, read.headers["x-request-id"])
    assert (entry["client_id"], entry["department"], entry["purpose"], entry["status"]) == (
        f"{department}-portal",
        department,
        PURPOSE,
        200,
    )
    assert entry["path"] == world.path(ZHANG)
    assert entry["resources"] == [world.base, world.extended]
    assert set(entry["grant_ids"]) == {on_base["id"], on_extended["id"]}
    assert entry["record_keys"] == [ZHANG]
    assert entry["fields"] == ["household_address", "id_number", "name"]
    assert len(entry["request_hash"]) == 64


async def test_lists_are_masked_per_record_to_the_grants_whose_row_scope_covers_it(client, world: World) -> None:
    department = unique("mca")
    beijing = await world.grant(
        department, world.base, ["id_number", "name"], row_scope={"household_region_code": ["11"]}
    )
    chaoyang = await world.grant(
        department, world.extended, ["household_address"], row_scope={"household_region_code": ["110105"]}
    )
    consumer = world.callers(department, encoded(PURPOSE))

    listed = await client.get(world.path(), params={"limit": 50}, headers=consumer)
    assert listed.status_code == 200, listed.text
    # Shanghai is in no scope; Chaoyang is in both; the scope field itself is not granted, so not returned.
    assert listed.json() == {
        "items": [
            {"id_number": LI, "name": "李四"},
            {"id_number": ZHANG, "name": "张三", "household_address": "北京市朝阳区"},
        ],
        "next_cursor": None,
    }
    [entry] = await audit_rows(world.app, listed.headers["x-request-id"])
    assert entry["record_keys"] == [LI, ZHANG]
    assert set(entry["grant_ids"]) == {beijing["id"], chaoyang["id"]}
    assert entry["fields"] == ["household_address", "id_number", "name"]

    inside = await client.get(world.path(LI), headers=consumer)
    assert inside.json() == {"id_number": LI, "name": "李四"}
    outside = await client.get(world.path(WANG), headers=consumer)
    absent = await client.get(world.path("110101200001010000"), headers=consumer)
    # A record outside every scope is answered exactly as a record that does not exist.
    assert outside.status_code == absent.status_code == 404
    assert kind(outside) == kind(absent) == "record-not-found"
    drop = {"instance", "request_id"}
    assert {k: v for k, v in outside.json().items() if k not in drop} == {
        k: v for k, v in absent.json().items() if k not in drop
    }
    [entry] = await audit_rows(world.app, outside.headers["x-request-id"])
    assert (entry["status"], entry["record_keys"], entry["fields"], entry["grant_ids"]) == (404, [WANG], [], [])


async def test_a_non_owner_filters_only_on_granted_fields(client, world: World) -> None:
    department = unique("mca")
    await world.grant(department, world.base, ["id_number", "name"])
    await world.grant(department, world.extended, ["household_address"], purpose=OTHER_PURPOSE)
    consumer = world.callers(department, encoded(PURPOSE))

    by_name = await client.get(world.path(), params={"name": "张", "limit": 10}, headers=consumer)
    assert by_name.status_code == 200, by_name.text
    # Filtering on a field granted only for another purpose, or on no field at all, would reveal masked values.
    for parameter in ("household_address", "region"):
        refused = await client.get(world.path(), params={parameter: "11"}, headers=consumer)
        assert refused.status_code == 403
        assert kind(refused) == "filter-not-granted"
        assert refused.json()["parameters"] == [parameter]
    assert len(world.registry.calls) == 1  # only the granted filter reached the registry


async def test_a_parameter_the_resource_declares_is_allowed_when_its_fields_are_granted_on_that_resource(
    client, world: World
) -> None:
    department = unique("mca")
    # born_from (base) selects by birth_date; region (extended) by household_region_code.
    await world.grant(department, world.base, ["id_number", "name", "birth_date"])
    await world.grant(department, world.extended, ["id_number", "household_address"])
    consumer = world.callers(department, encoded(PURPOSE))
    born = await client.get(world.path(), params={"born_from": "1949-01-01"}, headers=consumer)
    assert born.status_code == 200, born.text
    # household_region_code is not granted on the extended resource, where region is declared.
    region = await client.get(world.path(), params={"region": "11"}, headers=consumer)
    assert region.status_code == 403
    assert region.json()["parameters"] == ["region"]
    other = unique("mca")
    await world.grant(other, world.base, ["id_number", "name"])
    await world.grant(other, world.extended, ["id_number", "household_region_code"])
    by_region = world.callers(other, encoded(PURPOSE))
    assert (await client.get(world.path(), params={"region": "11"}, headers=by_region)).status_code == 200
    # birth_date is not granted to this department, so born_from would reveal it.
    refused = await client.get(world.path(), params={"born_from": "1949-01-01"}, headers=by_region)
    assert refused.status_code == 403
    assert kind(refused) == "filter-not-granted"
    reached = [path.partition("?")[2] for _, path, _ in world.registry.calls]
    assert reached == ["born_from=1949-01-01", "region=11"]  # the refused calls never reached the registry


async def test_without_a_grant_or_with_another_purpose_a_read_is_refused(client, world: World) -> None:
    holder, stranger = unique("mca"), unique("hrss")
    await world.grant(holder, world.base, ["id_number", "name"])
    no_grant = await client.get(world.path(ZHANG), headers=world.callers(stranger, encoded(PURPOSE)))
    assert no_grant.status_code == 403
    assert kind(no_grant) == "no-grant"
    mismatch = await client.get(world.path(ZHANG), headers=world.callers(holder, encoded(OTHER_PURPOSE)))
    assert mismatch.status_code == 403
    assert kind(mismatch) == "purpose-mismatch"
    assert world.registry.calls == []
    [entry] = await audit_rows(world.app, mismatch.headers["x-request-id"])
    assert (entry["status"], entry["purpose"], entry["record_keys"]) == (403, OTHER_PURPOSE, [ZHANG])


async def test_a_revoked_grant_stops_data_calls(client, world: World) -> None:
    department = unique("mca")
    document = await world.grant(department, world.base, ["id_number", "name"])
    consumer = world.callers(department, encoded(PURPOSE))
    assert (await client.get(world.path(ZHANG), headers=consumer)).status_code == 200
    await world.broker.grant({**document, "status": "revoked"}, REVOKED)

    async def refused() -> httpx.Response | None:
        response = await client.get(world.path(ZHANG), headers=consumer)
        return response if response.status_code == 403 else None

    assert kind(await eventually(refused)) == "no-grant"


async def test_the_purpose_may_come_as_utf8_bytes_or_percent_encoded(client, world: World) -> None:
    department = unique("mca")
    await world.grant(department, world.base, ["id_number", "name"])
    token = world.callers(department)["Authorization"]
    for sent in (encoded(PURPOSE).encode(), PURPOSE.encode()):
        response = await client.get(world.path(ZHANG), headers={"Authorization": token, "X-OneSource-Purpose": sent})
        assert response.status_code == 200, response.text


async def test_others_may_only_read(client, world: World) -> None:
    department = unique("mca")
    await world.grant(department, world.base, ["id_number", "name"])
    consumer = world.callers(department, encoded(PURPOSE))
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await client.request(method, world.path(ZHANG), headers=consumer, json={"name": "x"})
        assert response.status_code == 405, method
        assert kind(response) == "method-not-allowed"
        assert response.headers["allow"] == "GET, HEAD"
    head = await client.head(world.path(ZHANG), headers=consumer)
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len('{"id_number":"11010519491231002X","name":"张三"}'.encode())
    assert [call[0] for call in world.registry.calls] == ["GET"]  # HEAD is answered from the masked GET


async def test_the_checks_come_in_order(client, world: World, gateway_app: FastAPI, settings) -> None:
    department = unique("mca")
    await world.grant(department, world.base, ["id_number", "name"])
    token = world.callers(department)["Authorization"]
    stranger = world.callers(unique("hrss"))["Authorization"]
    too_big = b"x" * (settings.max_body_bytes + 1)
    path = world.path(ZHANG)

    async def call(method: str, target: str, *, headers: dict[str, str], content: bytes = b"") -> tuple[int, str]:
        response = await client.request(method, target, headers=headers, content=content or None)
        [entry] = await audit_rows(gateway_app, response.headers["x-request-id"])
        assert entry["status"] == response.status_code  # every refusal is audited
        return response.status_code, kind(response) if response.status_code >= 400 else ""

    assert await call("PATCH", f"{path}?limit=500", headers={}, content=too_big) == (401, "unauthorized")
    assert await call("GET", path, headers={"Authorization": "Bearer not-a-token"}) == (401, "unauthorized")
    assert await call("GET", path, headers={"Authorization": token}, content=too_big) == (400, "purpose-required")
    purposeful = {"Authorization": token, "X-OneSource-Purpose": encoded(PURPOSE)}
    assert await call("GET", f"{path}?limit=500", headers=purposeful, content=too_big) == (413, "content-too-large")
    assert await call("GET", f"{world.path()}?limit=201", headers=purposeful) == (413, "page-too-large")
    assert await call("GET", f"{world.path()}?limit=200", headers=purposeful) == (200, "")
    uncovered = world.path(f"{ZHANG}/history")
    assert await call("PATCH", uncovered, headers={"Authorization": stranger, "X-OneSource-Purpose": "x"}) == (
        404,
        "not-covered",
    )
    assert await call("PATCH", path, headers={"Authorization": stranger, "X-OneSource-Purpose": "x"}) == (
        405,
        "method-not-allowed",
    )
    assert await call("GET", path, headers={"Authorization": stranger, "X-OneSource-Purpose": "x"}) == (403, "no-grant")

    original = gateway_app.state.rate_limits
    gateway_app.state.rate_limits = TokenBuckets(rate=0.5, burst=1)
    try:
        assert (await call("GET", path, headers=purposeful))[0] == 200
        limited = await client.get(path, headers={"Authorization": token})  # no purpose either: 429 comes first
    finally:
        gateway_app.state.rate_limits = original
    assert limited.status_code == 429
    assert kind(limited) == "rate-limited"
    assert int(limited.headers["retry-after"]) >= 1
    [entry] = await audit_rows(gateway_app, limited.headers["x-request-id"])
    assert (entry["status"], entry["client_id"]) == (429, f"{department}-app")


async def test_an_unauthenticated_call_is_audited_without_a_client(client, world: World, gateway_app) -> None:
    response = await client.get(world.path(ZHANG), headers={"X-Request-Id": unique("req-")})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    [entry] = await audit_rows(gateway_app, response.headers["x-request-id"])
    assert (entry["client_id"], entry["department"], entry["status"], entry["method"]) == (None, None, 401, "GET")


async def test_the_gateways_own_tokens_are_refused_from_callers(client, world: World) -> None:
    department = unique("mca")
    await world.grant(department, world.base, ["id_number", "name"])
    replayed = world.callers(department, encoded(PURPOSE), client_id="gateway", roles=["gateway"])
    response = await client.get(world.path(ZHANG), headers=replayed)
    assert response.status_code == 401


async def test_a_chunked_body_over_the_limit_is_refused_while_read(client, world: World, settings) -> None:
    async def chunks():
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"x" * 65536

    response = await client.post(world.path(), headers=world.owner(), content=chunks())
    assert response.status_code == 413
    assert kind(response) == "content-too-large"
    assert world.registry.calls == []


async def test_registry_problems_pass_through_and_unmaskable_answers_do_not(client, world: World) -> None:
    department = unique("mca")
    await world.grant(department, world.base, ["id_number", "name"])
    consumer = world.callers(department, encoded(PURPOSE))
    world.registry.answer = lambda request: Response(
        b'{"type":"https://onesource.gov.cn/problems/validation-error","status":422,"title":"Invalid input"}',
        status_code=422,
        media_type="application/problem+json",
        headers={"ETag": '"9"'},
    )
    problem = await client.get(world.path(), params={"name": "", "limit": "x"}, headers=consumer)
    assert problem.status_code == 422
    assert kind(problem) == "validation-error"
    assert "etag" not in problem.headers

    world.registry.answer = lambda request: Response("张三,2\n", media_type="text/csv")
    csv = await client.get(world.path(ZHANG), headers=consumer)
    assert csv.status_code == 502
    assert kind(csv) == "unmaskable-answer"
    assert "张三" not in csv.text

    world.registry.answer = lambda request: Response('["张三"]', media_type="application/json")
    array = await client.get(world.path(ZHANG), headers=consumer)
    assert array.status_code == 502
    assert "张三" not in array.text


async def test_a_slow_registry_is_a_504(client, world: World, settings) -> None:
    department = unique("mca")
    await world.grant(department, world.base, ["id_number", "name"])
    world.registry.delay = 1.0
    original = settings.upstream_timeout_seconds
    settings.upstream_timeout_seconds = 0.2
    try:
        started = time.monotonic()
        response = await client.get(world.path(ZHANG), headers=world.callers(department, encoded(PURPOSE)))
    finally:
        settings.upstream_timeout_seconds = original
    assert response.status_code == 504
    assert kind(response) == "upstream-timeout"
    assert time.monotonic() - started < 0.9


async def test_no_answer_leaves_without_its_audit_entry(client, world: World, gateway_app: FastAPI) -> None:
    department = unique("mca")
    await world.grant(department, world.base, ["id_number", "name"])

    class Broken:
        async def record(self, entry: Any) -> None:
            raise ConnectionError("the database is gone")

    original = gateway_app.state.audit
    gateway_app.state.audit = Broken()
    try:
        response = await client.get(world.path(ZHANG), headers=world.callers(department, encoded(PURPOSE)))
    finally:
        gateway_app.state.audit = original
    assert response.status_code == 503
    assert kind(response) == "audit-unavailable"
    assert "张三" not in response.text
    assert len(world.registry.calls) == 1  # it was read, but the answer was withheld


async def test_data_calls_fail_closed_until_the_caches_have_caught_up(settings, callers) -> None:
    from onesource.gateway.main import create_app
    from onesource.kit.settings import KafkaSettings
    from onesource.kit.testing.plugin import api_client, running_app

    # A gateway whose broker is unreachable: it never catches up, so it must ask, or refuse.
    lagging = settings.model_copy(update={"kafka": KafkaSettings(bootstrap="127.0.0.1:9", request_timeout_ms=1000)})
    department, provider, collection = unique("mca"), unique("psb"), unique("people")
    paths = [f"/v1/{collection}/{{id_number}}", f"/v1/{collection}"]
    resource = resource_document(f"test.{collection}", provider=provider, paths=paths, fields=BASE_FIELDS)
    grant = grant_document(
        department=department, resource=resource["id"], provider=provider, fields=["id_number", "name"], purpose=PURPOSE
    )
    asked: list[httpx.Request] = []

    def exchange(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        assert request.url.path == "/v1/grants"
        return httpx.Response(200, json={"items": [grant], "next_cursor": None})

    def catalog(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if request.url.path == "/v1/resources":
            return httpx.Response(200, json={"items": [], "next_cursor": None, "facets": {}})
        if request.url.path == "/v1/registries":
            return httpx.Response(
                200, json={"items": [{"service": "population", "owner": provider}], "next_cursor": None}
            )
        if request.url.path == f"/v1/resources/{resource['id']}":
            return httpx.Response(200, json=resource)
        return httpx.Response(404, json={"status": 404})

    registry = Registry()
    registry.add(collection, *PEOPLE)
    app = create_app(lagging)
    async with running_app(app):
        backends = Backends()
        backends.serve(settings.service_urls["population"], registry.app)
        consumer = Callers(app)(department, encoded(PURPOSE), client_id=f"{department}-portal")
        async with routed(app, backends):
            async with api_client(app) as http:
                await asyncio.sleep(0.5)  # long enough to have caught up, had the broker answered
                assert not app.state.read_models.grants_known
                refused = await http.get(f"/api/population/v1/{collection}/{ZHANG}", headers=consumer)
                assert refused.status_code == 503
                assert kind(refused) == "grants-unknown"
                assert int(refused.headers["retry-after"]) >= 1
                assert registry.calls == []

                backends.serve(settings.service_urls["exchange"], exchange)
                backends.serve(settings.service_urls["catalog"], catalog)
                answered = await http.get(f"/api/population/v1/{collection}/{ZHANG}", headers=consumer)
                assert answered.status_code == 200, answered.text
                assert answered.json() == {"id_number": ZHANG, "name": "张三"}
                other = await http.get(
                    f"/api/population/v1/{collection}/{ZHANG}", headers=Callers(app)(department, encoded("其他"))
                )
                assert other.status_code == 403
                assert kind(other) == "purpose-mismatch"
    # The exchange was asked for the department's active grants, as the gateway acting for that department.
    grants_asked = next(request for request in asked if request.url.path == "/v1/grants")
    assert grants_asked.url.params["department"] == department
    assert grants_asked.url.params["status"] == "active"
    principal_token = grants_asked.headers["authorization"].removeprefix("Bearer ")
    claims = jwt.decode(principal_token, options={"verify_signature": False})
    assert (claims["sub"], claims["roles"], claims["dept"]) == ("gateway", ["gateway"], department)


async def test_a_non_owner_pages_with_sealed_cursors(client, world: World) -> None:
    department, other = unique("mca"), unique("hrss")
    await world.grant(department, world.base, ["name"], row_scope={"household_region_code": ["11"]})
    await world.grant(other, world.base, ["name"])
    consumer = world.callers(department, encoded(PURPOSE))
    first = await client.get(world.path(), params={"limit": 1}, headers=consumer)
    assert first.status_code == 200, first.text
    cursor = first.json()["next_cursor"]
    # The registry's cursor names the last record of its page (here "bmV4dA"); the caller never sees it.
    assert cursor
    assert "bmV4dA" not in cursor
    second = await client.get(world.path(), params={"limit": 1, "cursor": cursor}, headers=consumer)
    assert second.status_code == 200, second.text
    assert world.registry.calls[-1][1] == f"/v1/{world.collection}?limit=1&cursor=bmV4dA"
    # Only the department and the list it was sealed for can use it; a made-up one is refused.
    for headers, sent in ((world.callers(other, encoded(PURPOSE)), cursor), (consumer, cursor[:-2] + "AA")):
        refused = await client.get(world.path(), params={"limit": 1, "cursor": sent}, headers=headers)
        assert refused.status_code == 422
        assert kind(refused) == "invalid-cursor"
    # The owner pages with the registry's own cursors.
    owned = await client.get(world.path(), params={"limit": 1}, headers=world.owner())
    assert owned.json()["next_cursor"] == "bmV4dA"
