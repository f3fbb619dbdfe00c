"""The legal-entity registry in the running mesh, through the gateway only.

amr registers entities whose legal representatives are checked live in population-db through the gateway under
amr's own grant (audited like any data call); unknown and deceased representatives are refused, an unreachable
population registry makes it answer 503; mca reads entities masked to its grants and subscribes to their changes;
a representative's death reaches amr's findings through its subscription.
"""

from __future__ import annotations

import os
import secrets
import signal
from datetime import date, timedelta
from typing import Any

import httpx

from onesource.legal_entity.demo import EntityFactory
from onesource.legal_entity.settings import REPRESENTATIVE_CHECK_PURPOSE
from onesource.mesh.state import read_pids
from onesource.standards.citizen_id import check_character, embedded_birth_date
from tests.conftest import Mesh, eventually
from tests.test_flow import OWNER_PURPOSE, problem_type, purpose

ENTITIES = "/api/legal-entity/v1/entities"
PERSONS = "/api/population/v1/persons"


def living_adults(mesh: Mesh, count: int) -> list[str]:
    """Seeded persons alive and of age, read by their owner; different ones in every call."""
    owner = mesh.bearer("psb-registrar", OWNER_PURPOSE)
    found: list[str] = []
    cursor: str | None = None
    adult_before = date.today() - timedelta(days=365 * 19)
    while len(found) < count + 50:
        params: dict[str, str | int] = {"limit": 200, "deceased": "false", **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{mesh.gateway}{PERSONS}", params=params, headers=owner, timeout=30)
        assert page.status_code == 200, page.text
        for person in page.json()["items"]:
            born = embedded_birth_date(person["id_number"])
            if born is not None and born < adult_before:
                found.append(person["id_number"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    return secrets.SystemRandom().sample(sorted(set(found)), count)  # distinct: drawn without putting back


def unregistered(mesh: Mesh) -> str:
    """A valid ID number of an adult nobody registered."""
    owner = mesh.bearer("psb-registrar", OWNER_PURPOSE)
    while True:
        first17 = f"11010519800101{secrets.randbelow(900) + 100:03d}"
        id_number = first17 + check_character(first17)
        if httpx.get(f"{mesh.gateway}{PERSONS}/{id_number}", headers=owner).status_code == 404:
            return id_number


def an_entity(representative: str) -> dict[str, Any]:
    return dict(EntityFactory(secrets.randbits(32), [representative]).entity())


def register(mesh: Mesh, entity: dict[str, Any]) -> httpx.Response:
    registrar = mesh.bearer("amr-registrar", OWNER_PURPOSE)
    return httpx.post(f"{mesh.gateway}{ENTITIES}", json=entity, headers=registrar, timeout=30)


def register_death(mesh: Mesh, id_number: str) -> None:
    owner = mesh.bearer("psb-registrar", OWNER_PURPOSE)
    died = httpx.post(f"{mesh.gateway}{PERSONS}/{id_number}/death", json={"death_date": "2025-06-01"}, headers=owner)
    assert died.status_code == 200, died.text


def test_amr_registers_entities_whose_representatives_are_checked_live(mesh: Mesh) -> None:
    living, dying = living_adults(mesh, 2)
    entity = an_entity(living)
    registered = register(mesh, entity)
    assert registered.status_code == 201, registered.text
    read = httpx.get(f"{mesh.gateway}{ENTITIES}/{entity['uscc']}", headers=mesh.bearer("amr-registrar", OWNER_PURPOSE))
    assert read.status_code == 200, read.text
    assert read.json()["legal_representative_id"] == living

    # the check was a data call of amr's own client, under its grant and purpose, in population's audit trail
    def audited() -> list[dict[str, Any]]:
        trail = httpx.get(
            f"{mesh.gateway}/api/audit/v1/records/population.person/{living}", headers=mesh.bearer("psb-steward")
        )
        assert trail.status_code == 200, trail.text
        return [entry for entry in trail.json()["items"] if entry["client_id"] == "amr-legal-entity"]

    entries = eventually(audited)
    assert entries[0]["department"] == "amr"
    assert entries[0]["purpose"] == REPRESENTATIVE_CHECK_PURPOSE
    assert set(entries[0]["fields"]) <= {"id_number", "deceased"}

    unknown = register(mesh, an_entity(unregistered(mesh)))
    assert (unknown.status_code, problem_type(unknown)) == (422, "invalid-entity"), unknown.text
    assert [param["name"] for param in unknown.json()["invalid_params"]] == ["body.legal_representative_id"]
    assert "no person" in unknown.json()["detail"]

    register_death(mesh, dying)
    deceased = register(mesh, an_entity(dying))
    assert (deceased.status_code, problem_type(deceased)) == (422, "invalid-entity"), deceased.text
    assert [param["name"] for param in deceased.json()["invalid_params"]] == ["body.legal_representative_id"]
    assert "deceased" in deceased.json()["detail"]

    seeded = httpx.get(
        f"{mesh.gateway}{ENTITIES}", params={"limit": 5}, headers=mesh.bearer("amr-registrar", OWNER_PURPOSE)
    )
    assert seeded.status_code == 200, seeded.text
    assert len(seeded.json()["items"]) == 5
    representative = seeded.json()["items"][0]["legal_representative_id"]
    person = httpx.get(f"{mesh.gateway}{PERSONS}/{representative}", headers=mesh.bearer("psb-registrar", OWNER_PURPOSE))
    assert person.status_code == 200  # the demo's representatives are seeded persons


def test_when_population_db_does_not_answer_the_registry_says_503(mesh: Mesh) -> None:
    (representative,) = living_adults(mesh, 1)
    pids = read_pids(mesh.var)
    assert pids is not None
    population = pids.services["population"].pid
    os.kill(population, signal.SIGSTOP)  # population stops answering: the gateway waits, the registry gives up
    try:
        stalled = register(mesh, an_entity(representative))
    finally:
        os.kill(population, signal.SIGCONT)
    assert (stalled.status_code, problem_type(stalled)) == (503, "dependency-unavailable"), stalled.text
    again = register(mesh, an_entity(representative))
    assert again.status_code == 201, again.text


def test_a_consumer_filters_by_region_and_industry_when_their_fields_are_granted(mesh: Mesh) -> None:
    reason = f"区域行业统计 {secrets.token_hex(3)}"
    asked = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests",
        headers=mesh.bearer("mca-app"),
        json={"resource": "legal-entity.entity", "fields": ["uscc", "name", "region_code"], "purpose": reason},
    )
    assert asked.status_code == 201, asked.text
    consumer = mesh.bearer("mca-app", purpose(reason))
    owner = mesh.bearer("amr-registrar", OWNER_PURPOSE)
    seeded = httpx.get(f"{mesh.gateway}{ENTITIES}", params={"limit": 1}, headers=owner).json()["items"][0]
    region = seeded["region_code"][:4]

    def by_region() -> httpx.Response | None:
        response = httpx.get(f"{mesh.gateway}{ENTITIES}", params={"region": region, "limit": 20}, headers=consumer)
        return response if response.status_code == 200 else None

    listed = eventually(by_region).json()["items"]
    assert listed
    assert all(
        item["region_code"].startswith(region) and set(item) == {"uscc", "name", "region_code"} for item in listed
    )
    # industry selects by industry_code and established_from by established_on: neither is granted here
    for parameter, value in (("industry", seeded["industry_code"]), ("established_from", "2000-01-01")):
        refused = httpx.get(f"{mesh.gateway}{ENTITIES}", params={parameter: value}, headers=consumer)
        assert refused.status_code == 403, refused.text
        assert problem_type(refused) == "filter-not-granted"
        assert refused.json()["parameters"] == [parameter]


def test_mca_reads_entities_masked_to_its_grants_and_subscribes_to_their_changes(mesh: Mesh) -> None:
    reason = f"企业登记信息核查 {secrets.token_hex(3)}"  # a purpose of this test's own grants
    consumer = mesh.bearer("mca-app", purpose(reason))
    asked = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests",
        headers=mesh.bearer("mca-app"),
        json={
            "resource": "legal-entity.entity",
            "fields": ["uscc", "name", "status", "industry_section"],
            "purpose": reason,
        },
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "granted"
    owner = mesh.bearer("amr-registrar", OWNER_PURPOSE)
    seeded = httpx.get(f"{mesh.gateway}{ENTITIES}", params={"limit": 3}, headers=owner).json()["items"]
    uscc = seeded[0]["uscc"]
    base = {"uscc", "name", "status", "industry_section"}

    def masked(fields: set[str]) -> httpx.Response | None:
        response = httpx.get(f"{mesh.gateway}{ENTITIES}/{uscc}", headers=consumer)
        return response if response.status_code == 200 and set(response.json()) == fields else None

    read = eventually(lambda: masked(base))
    assert read.json() == {name: seeded[0][name] for name in base}
    listed = httpx.get(f"{mesh.gateway}{ENTITIES}", params={"limit": 20, "name": "有限公司"}, headers=consumer)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"]
    for item in listed.json()["items"]:
        assert set(item) <= base
        assert "有限公司" in item["name"]
    no_grant = httpx.get(f"{mesh.gateway}{ENTITIES}/{uscc}", headers=mesh.bearer("mca-app", purpose("别的用途")))
    assert no_grant.status_code == 403

    # the conditional resource: amr's steward approves, the coordinator confirms
    extended = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests",
        headers=mesh.bearer("mca-app"),
        json={
            "resource": "legal-entity.entity-extended",
            "fields": ["uscc", "registered_capital"],
            "purpose": reason,
            "legal_basis": "《社会组织登记管理条例》",
        },
    )
    assert extended.status_code == 201, extended.text
    assert extended.json()["status"] == "pending_provider"
    decided = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests/{extended.json()['id']}/decision",
        headers=mesh.bearer("amr-steward"),
        json={"approve": True},
    )
    assert decided.status_code == 200, decided.text
    confirmed = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests/{extended.json()['id']}/confirm",
        headers=mesh.bearer("bdb-coordinator"),
    )
    assert confirmed.status_code == 200, confirmed.text
    union = eventually(lambda: masked(base | {"registered_capital"}))
    assert union.json()["registered_capital"] == seeded[0]["registered_capital"]

    subscribed = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/subscriptions",
        headers=consumer,
        json={"resource": "legal-entity.entity", "delivery": "feed"},
    )
    assert subscribed.status_code == 201, subscribed.text
    current = httpx.get(f"{mesh.gateway}{ENTITIES}/{uscc}", headers=owner)
    new_name = current.json()["name"].replace("有限公司", "新有限公司", 1) + "（更名）"
    patched = httpx.patch(
        f"{mesh.gateway}{ENTITIES}/{uscc}",
        headers={**owner, "If-Match": current.headers["etag"]},
        json={"name": new_name, "address": "不在授权内的新地址"},
    )
    assert patched.status_code == 200, patched.text

    # Behind the demo records, on a busy machine.
    events = eventually(lambda: mesh.feed(subscribed.json()["id"], consumer, uscc), timeout=180)
    assert events[-1]["type"] == "gov.onesource.legal-entity.entity.updated.v1"
    assert events[-1]["data"]["record"]["name"] == new_name
    assert set(events[-1]["data"]["record"]) <= base
    assert set(events[-1]["data"]["changes"]) == {"name"}  # the address changed too, but is not granted


def test_a_representatives_death_reaches_amrs_findings(mesh: Mesh) -> None:
    (representative,) = living_adults(mesh, 1)
    entity = an_entity(representative)
    assert register(mesh, entity).status_code == 201
    register_death(mesh, representative)

    def listed() -> dict[str, Any] | None:
        response = httpx.get(
            f"{mesh.gateway}/api/legal-entity/v1/findings",
            params={"limit": 200},
            headers=mesh.bearer("amr-steward", OWNER_PURPOSE),
        )
        assert response.status_code == 200, response.text
        return next((item for item in response.json()["items"] if item["uscc"] == entity["uscc"]), None)

    finding = eventually(listed, timeout=180)
    assert finding["legal_representative_id"] == representative
    assert finding["finding"] == "representative-deceased"
    refused = httpx.get(f"{mesh.gateway}/api/legal-entity/v1/findings", headers=mesh.bearer("mca-app", purpose("x")))
    assert refused.status_code in {403, 404}
