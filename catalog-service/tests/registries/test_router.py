"""Registries and their owners: set by platform admins only, and the rule that a resource's provider owns the
registry its service and topic name (issue 20: a steward published a resource over another department's registry)."""

from __future__ import annotations

from typing import Any

import httpx

POLICE = "public-security"
MARKET = "market-regulation"

REGISTRIES = "/v1/registries"
RESOURCES = "/v1/resources"
PROBLEMS = "https://onesource.gov.cn/problems/"


def kind(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return str(response.json()["type"]).removeprefix(PROBLEMS)


async def test_an_admin_assigns_a_registry_its_owner_and_the_change_is_an_event(
    client, admin, consumer, events
) -> None:
    created = await client.put(f"{REGISTRIES}/geo", json={"owner": "natural-resources"}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["service"] == "geo"
    assert created.json()["owner"] == "natural-resources"
    assert created.json()["version"] == 1
    assert created.headers["etag"] == '"1"'
    again = await client.put(f"{REGISTRIES}/geo", json={"owner": "natural-resources"}, headers=admin)
    assert (again.status_code, again.json()["version"]) == (200, 1)  # nothing changed, nothing announced
    moved = await client.put(f"{REGISTRIES}/geo", json={"owner": "surveying"}, headers={**admin, "If-Match": '"1"'})
    assert (moved.status_code, moved.json()["version"], moved.json()["owner"]) == (200, 2, "surveying")
    stale = await client.put(f"{REGISTRIES}/geo", json={"owner": "x-y"}, headers={**admin, "If-Match": '"1"'})
    assert stale.status_code == 412, stale.text

    announced = await events("geo")
    assert [event["type"] for event in announced] == ["gov.onesource.catalog.registry.assigned.v1"] * 2
    assert [(event["data"]["owner"], event["data"]["version"]) for event in announced] == [
        ("natural-resources", 1),
        ("surveying", 2),
    ]
    assert announced[0]["subject"] == "geo"

    listed = await client.get(REGISTRIES, headers=consumer)
    assert listed.status_code == 200, listed.text
    owners = {item["service"]: item["owner"] for item in listed.json()["items"]}
    assert owners == {"geo": "surveying", "legal-entity": MARKET, "population": POLICE}
    one = await client.get(f"{REGISTRIES}/population", headers=consumer)
    assert (one.status_code, one.json()["owner"]) == (200, POLICE)
    missing = await client.get(f"{REGISTRIES}/nothing", headers=consumer)
    assert (missing.status_code, kind(missing)) == (404, "registry-not-found")


async def test_only_admins_assign_owners(client, police_steward, market_steward, coordinator, events) -> None:
    for headers in (police_steward, market_steward, coordinator):
        refused = await client.put(f"{REGISTRIES}/population", json={"owner": "market-regulation"}, headers=headers)
        assert refused.status_code == 403, refused.text
    anonymous = await client.put(f"{REGISTRIES}/population", json={"owner": "market-regulation"})
    assert anonymous.status_code == 401
    assert await events("population") == []


async def test_platform_services_are_never_registries(client, admin) -> None:
    for service in ("catalog", "exchange", "identity", "audit", "gateway", "delivery"):
        refused = await client.put(f"{REGISTRIES}/{service}", json={"owner": "market-regulation"}, headers=admin)
        assert (refused.status_code, kind(refused)) == (409, "reserved-service"), service


async def test_a_steward_cannot_describe_another_departments_registry(client, market_steward, person) -> None:
    # The probe of issue 20: a mirror of population's persons, provided by another department.
    mirror = person(id="market-regulation.mirror", provider=MARKET, fields=_copies(), topic=None)
    refused = await client.post(RESOURCES, json=mirror, headers=market_steward)
    assert refused.status_code == 403, refused.text
    assert kind(refused) == "registry-not-owned"
    assert refused.json()["owner"] == POLICE
    assert "population" in refused.json()["detail"]
    for paths in (["/v1/persons/{id_number}/history"], ["/v1/imports"], []):  # any path of it, or none
        variant = person(id="market-regulation.mirror", provider=MARKET, fields=_copies(), topic=None, paths=paths)
        assert (await client.post(RESOURCES, json=variant, headers=market_steward)).status_code == 403


async def test_an_admin_cannot_register_a_resource_over_a_registry_its_provider_does_not_own(
    client, admin, person
) -> None:
    refused = await client.post(RESOURCES, json=person(id="x.mirror", provider=MARKET, fields=_copies()), headers=admin)
    assert (refused.status_code, kind(refused)) == (403, "registry-not-owned")


async def test_a_service_of_no_known_registry_is_refused(client, police_steward, person) -> None:
    refused = await client.post(RESOURCES, json=person(service="hospital", topic=None), headers=police_steward)
    assert (refused.status_code, kind(refused)) == (409, "unknown-registry")
    assert refused.json()["service"] == "hospital"


async def test_a_topic_must_be_a_source_topic_of_a_registry_the_provider_owns(client, market_steward, company) -> None:
    for topic in (
        "onesource.population.person.v1",  # another department's registry
        "onesource.delivery.civil-affairs.population.person",  # another department's deliveries
        "onesource.exchange.grant.v1",  # the platform's own
        "somewhere-else",
    ):
        refused = await client.post(RESOURCES, json=company(topic=topic), headers=market_steward)
        assert (refused.status_code, kind(refused)) == (403, "registry-not-owned"), topic
    unknown = await client.post(RESOURCES, json=company(topic="onesource.hospital.visit.v1"), headers=market_steward)
    assert (unknown.status_code, kind(unknown)) == (409, "unknown-registry")
    own = await client.post(RESOURCES, json=company(), headers=market_steward)
    assert own.status_code == 201, own.text


async def test_a_change_cannot_move_a_resource_onto_another_departments_registry(
    client, catalog, market_steward, company
) -> None:
    await catalog.published(company(), market_steward)
    for change in ({"service": "population"}, {"topic": "onesource.population.person.v1"}):
        refused = await client.patch(
            f"{RESOURCES}/legal-entity.company", json=change, headers={**market_steward, "If-Match": '"2"'}
        )
        assert (refused.status_code, kind(refused)) == (403, "registry-not-owned"), change
    descriptive = await client.patch(
        f"{RESOURCES}/legal-entity.company",
        json={"service": None, "paths": [], "topic": None},
        headers={**market_steward, "If-Match": '"2"'},
    )
    assert descriptive.status_code == 200, descriptive.text


async def test_a_draft_is_checked_again_when_published_after_its_registry_changed_hands(
    client, catalog, admin, police_steward, person
) -> None:
    await catalog.create(person(), police_steward)
    moved = await client.put(f"{REGISTRIES}/population", json={"owner": MARKET}, headers=admin)
    assert moved.status_code == 200, moved.text
    refused = await client.post(f"{RESOURCES}/population.person/publish", headers=police_steward)
    assert (refused.status_code, kind(refused)) == (403, "registry-not-owned")


def _copies() -> list[dict[str, Any]]:
    return [
        {"name": name, "element": f"person.{name}", "data_type": "C", "length": 200, "source_element": f"person.{name}"}
        for name in ("id_number", "household_address", "marital_status", "education")
    ]
