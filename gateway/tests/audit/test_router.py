from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from ..conftest import Identity
from .conftest import audit_entry

VERIFY = "/api/audit/v1/verify"
RECORDS = "/api/audit/v1/records"


async def catalog_resource(connection: AsyncConnection, resource: str, provider: str, service: str) -> None:
    await connection.execute(
        text(
            "INSERT INTO catalog_resource (id, version, status, provider, service, paths, fields) "
            "VALUES (:id, 1, 'published', :provider, :service, '[]', '[]')"
        ),
        {"id": resource, "provider": provider, "service": service},
    )


@pytest.fixture
async def catalog(connection: AsyncConnection) -> None:
    """Two registries and a resource on each, in the catalog read models (inside the test's rolled-back transaction)."""
    for service, owner in (("audit-population", "psb-audit"), ("audit-legal-entity", "amr-audit")):
        await connection.execute(
            text("INSERT INTO catalog_registry (service, owner, version) VALUES (:service, :owner, 1)"),
            {"service": service, "owner": owner},
        )
    await catalog_resource(connection, "audit-test.person", "psb-audit", "audit-population")
    await catalog_resource(connection, "audit-test.company", "amr-audit", "audit-legal-entity")


async def bearer(identity: Identity, department: str, roles: list[str]) -> dict[str, str]:
    client = await identity.client(department, roles)
    return await identity.bearer(client["client_id"], client["client_secret"])


@pytest.fixture
async def psb_steward(identity: Identity) -> dict[str, str]:
    await identity.department("psb-audit", "600037341")
    return await bearer(identity, "psb-audit", ["steward"])


@pytest.fixture
async def amr_steward(identity: Identity) -> dict[str, str]:
    await identity.department("amr-audit", "600037342")
    return await bearer(identity, "amr-audit", ["steward", "coordinator"])


async def test_verification_is_for_admins(
    client: httpx.AsyncClient, admin: dict[str, str], psb_steward: dict[str, str], gateway_app: FastAPI
) -> None:
    await gateway_app.state.audit.record(audit_entry())
    assert (await client.get(VERIFY)).status_code == 401
    refused = await client.get(VERIFY, headers=psb_steward)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"

    answered = await client.get(VERIFY, headers=admin)
    assert answered.status_code == 200, answered.text
    report = answered.json()
    assert report["ok"] is True, report["problems"]
    assert report["entries"] == report["head_seq"] >= 1
    assert len(report["head_hash"]) == 64
    assert report["problems"] == []


async def test_the_providers_steward_and_admins_see_who_read_a_record(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    psb_steward: dict[str, str],
    amr_steward: dict[str, str],
    identity: Identity,
    catalog: None,
    gateway_app: FastAPI,
) -> None:
    key = f"11010519491231{uuid.uuid4().int % 10_000:04d}"
    read = audit_entry(
        resources=("audit-test.person",),
        record_keys=(key, "someone-else"),
        fields=("id_number", "name"),
        grant_ids=("grant-7",),
        purpose="低保审核",
    )
    await gateway_app.state.audit.record(read)
    company_read = audit_entry(resources=("audit-test.company",), record_keys=(key,))
    await gateway_app.state.audit.record(company_read)

    for headers in (psb_steward, admin):
        response = await client.get(f"{RECORDS}/audit-test.person/{key}", headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["next_cursor"] is None
        [item] = page["items"]
        assert item == {
            "seq": item["seq"],
            "time": item["time"],
            "client_id": read.client_id,
            "department": read.department,
            "purpose": "低保审核",
            "fields": ["id_number", "name"],
            "method": "GET",
            "path": read.path,
            "status": 200,
            "grant_ids": ["grant-7"],
            "request_id": read.request_id,
        }

    # Another department's steward may not see it, nor may a consumer of the provider itself.
    assert (await client.get(f"{RECORDS}/audit-test.person/{key}", headers=amr_steward)).status_code == 403
    psb_consumer = await bearer(identity, "psb-audit", ["consumer"])
    assert (await client.get(f"{RECORDS}/audit-test.person/{key}", headers=psb_consumer)).status_code == 403
    assert (await client.get(f"{RECORDS}/audit-test.person/{key}")).status_code == 401
    # The other steward does see its own resource's record.
    theirs = await client.get(f"{RECORDS}/audit-test.company/{key}", headers=amr_steward)
    assert [item["request_id"] for item in theirs.json()["items"]] == [company_read.request_id]


async def test_a_resource_over_another_departments_registry_opens_no_history_to_its_provider(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    amr_steward: dict[str, str],
    catalog: None,
    connection: AsyncConnection,
    gateway_app: FastAPI,
) -> None:
    # Issue 20: a steward published a resource of its own department over psb's registry, and read through it who
    # read psb's persons. Whatever entries name it (written before the gateway ignored such resources), they are
    # not its provider's to see; nor are those of a resource on a registry whose owner is not known.
    await catalog_resource(connection, "amr-audit.watch", "amr-audit", "audit-population")
    await catalog_resource(connection, "amr-audit.orphan", "amr-audit", "audit-unowned")
    key = uuid.uuid4().hex
    for resource in ("amr-audit.watch", "amr-audit.orphan"):
        await gateway_app.state.audit.record(audit_entry(resources=("audit-test.person", resource), record_keys=(key,)))
        refused = await client.get(f"{RECORDS}/{resource}/{key}", headers=amr_steward)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert (await client.get(f"{RECORDS}/{resource}/{key}", headers=admin)).status_code == 200


async def test_an_unknown_resource_is_for_admins_only(
    client: httpx.AsyncClient, admin: dict[str, str], psb_steward: dict[str, str], gateway_app: FastAPI
) -> None:
    key = uuid.uuid4().hex
    await gateway_app.state.audit.record(audit_entry(resources=("audit-test.unknown",), record_keys=(key,)))
    missing = await client.get(f"{RECORDS}/audit-test.unknown/{key}", headers=psb_steward)
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/resource-not-found")
    found = await client.get(f"{RECORDS}/audit-test.unknown/{key}", headers=admin)
    assert len(found.json()["items"]) == 1


async def test_the_history_pages_newest_first(
    client: httpx.AsyncClient, admin: dict[str, str], gateway_app: FastAPI
) -> None:
    key = f"a/b {uuid.uuid4().hex}"  # keys may hold slashes and spaces
    entries = [audit_entry(resources=("audit-test.person",), record_keys=(key,)) for _ in range(5)]
    for entry in entries:
        await gateway_app.state.audit.record(entry)
    await asyncio.gather(*(gateway_app.state.audit.record(audit_entry()) for _ in range(3)))  # other records

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"{RECORDS}/audit-test.person/{key}", params=params, headers=admin)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        seen.extend(item["request_id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [entry.request_id for entry in reversed(entries)]

    too_many = await client.get(f"{RECORDS}/audit-test.person/{key}", params={"limit": 201}, headers=admin)
    assert too_many.status_code == 422
    bad_cursor = await client.get(f"{RECORDS}/audit-test.person/{key}", params={"cursor": "bm9wZQ"}, headers=admin)
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["type"].endswith("/invalid-cursor")


async def test_odd_keys_and_cursors_are_answered_not_crashed_on(
    client: httpx.AsyncClient, admin: dict[str, str], gateway_app: FastAPI
) -> None:
    key = f"nul\x00{uuid.uuid4().hex}"
    await gateway_app.state.audit.record(audit_entry(resources=("audit-test.person",), record_keys=(key,)))
    # NUL in a URL is refused like any other unstorable input; the entry keeps U+FFFD in its place, found by it.
    refused = await client.get(f"{RECORDS}/audit-test.person/{key.replace(chr(0), '%00')}", headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/unstorable-input")
    found = await client.get(f"{RECORDS}/audit-test.person/{key.replace(chr(0), '%EF%BF%BD')}", headers=admin)
    assert found.status_code == 200, found.text
    assert len(found.json()["items"]) == 1
    for cursor in ("wrI", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ"):  # "²", and a number beyond bigint
        response = await client.get(f"{RECORDS}/audit-test.person/x", params={"cursor": cursor}, headers=admin)
        assert response.status_code == 422, response.text


async def test_call_statistics_count_data_calls_per_consumer_and_provider(
    client: httpx.AsyncClient,
    gateway_app: FastAPI,
    catalog: None,
    amr_steward: dict[str, str],
    psb_steward: dict[str, str],
) -> None:
    from datetime import UTC, datetime

    started = datetime.now(UTC)
    consumer = f"stat-{uuid.uuid4().hex[:8]}"
    for status, resources in (
        (200, ("audit-test.person",)),
        (200, ("audit-test.person", "audit-test.company")),
        (403, ("audit-test.person",)),
        (200, ()),  # not a data call: it named no resource
    ):
        await gateway_app.state.audit.record(audit_entry(department=consumer, status=status, resources=resources))
    url = "/api/audit/v1/statistics"
    answer = await client.get(url, params={"since": started.isoformat()}, headers=amr_steward)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [party for party in body["consumers"] if party["department"] == consumer] == [
        {"department": consumer, "calls": 3, "answered": 2}
    ]
    providers = {party["department"]: party for party in body["providers"]}
    assert providers["psb-audit"] == {"department": "psb-audit", "calls": 3, "answered": 2}
    assert providers["amr-audit"] == {"department": "amr-audit", "calls": 1, "answered": 1}
    later = await client.get(url, params={"since": datetime.now(UTC).isoformat()}, headers=amr_steward)
    assert consumer not in {party["department"] for party in later.json()["consumers"]}

    refused = await client.get(url, headers=psb_steward)
    assert refused.status_code == 403
    backwards = {"since": datetime.now(UTC).isoformat(), "until": started.isoformat()}
    invalid = await client.get(url, params=backwards, headers=amr_steward)
    assert invalid.status_code == 422
    assert invalid.json()["invalid_params"][0]["name"] == "query.since"
