"""Behaviour that needs real commits: concurrent updates, and events reaching the broker only for committed work
(an import's deferred registrations included)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from onesource.kit.events import CloudEvent, EnvelopeWriter, derived_event_id
from onesource.population.demo import to_ndjson
from onesource.population.persons.events import PERSON_TOPIC, PersonRegistered

PERSONS = "/v1/persons"
IMPORTS = "/v1/imports"
NDJSON = {"Content-Type": "application/x-ndjson"}


async def test_two_updates_with_the_same_if_match_exactly_one_wins(committing_client, registrar, factory) -> None:
    person = factory.person()
    person.pop("death_date", None)
    assert (await committing_client.post(PERSONS, json=person, headers=registrar)).status_code == 201
    url = f"{PERSONS}/{person['id_number']}"
    headers = {**registrar, "If-Match": '"1"'}
    first, second = await asyncio.gather(
        committing_client.patch(url, json={"household_address": "甲"}, headers=headers),
        committing_client.patch(url, json={"household_address": "乙"}, headers=headers),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    winner = first if first.status_code == 200 else second
    current = (await committing_client.get(url, headers=registrar)).json()
    assert current["version"] == 2
    assert current["household_address"] == winner.json()["household_address"]
    history = (await committing_client.get(f"{url}/history", headers=registrar)).json()["items"]
    assert [version["version"] for version in history] == [1, 2]


async def test_events_reach_the_broker_exactly_for_committed_changes(
    committing_client, registrar, factory, topic_reader
) -> None:
    person = factory.person()
    person.pop("death_date", None)
    subject = person["id_number"]
    url = f"{PERSONS}/{subject}"
    assert (await committing_client.post(PERSONS, json=person, headers=registrar)).status_code == 201
    stale = await committing_client.patch(url, json={"education": "90"}, headers={**registrar, "If-Match": '"9"'})
    assert stale.status_code == 412  # rolled back: no event
    invalid = await committing_client.patch(url, json={"ethnicity": "77"}, headers={**registrar, "If-Match": '"1"'})
    assert invalid.status_code == 422  # rolled back: no event
    updated = await committing_client.patch(url, json={"education": "90"}, headers={**registrar, "If-Match": '"1"'})
    assert updated.status_code == 200
    death = await committing_client.post(f"{url}/death", json={"death_date": "2025-06-01"}, headers=registrar)
    assert death.status_code == 200

    def mine(messages: list) -> list:
        return [message for message in messages if message.key == subject]

    messages = await topic_reader.read(PERSON_TOPIC, until=lambda found: len(mine(found)) >= 3, timeout=30, settle=1.0)
    events = [CloudEvent.model_validate(message.value) for message in mine(messages)]
    assert [event.type.split(".")[-2] for event in events] == ["registered", "updated", "deceased"]
    assert events[1].data["changes"] == {"education": "90"}
    assert events[2].data["record"]["death_date"] == "2025-06-01"
    assert len({event.id for event in events}) == 3


def test_bulk_envelopes_equal_the_validated_ones() -> None:
    record = {"id_number": "11010519491231002X", "name": "王明", "former_names": ['王\\"x'], "deceased": False}
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

    event_id, text = EnvelopeWriter(PersonRegistered, at)(record["id_number"], json.dumps({"record": record}))
    written = CloudEvent.model_validate_json(text)
    expected = PersonRegistered(record=record).to_cloudevent().model_copy(update={"id": event_id, "time": at})
    assert written == expected
    assert json.loads(text) == expected.model_dump(mode="json")


async def test_imported_persons_reach_the_broker_registered_then_as_changed(
    committing_client, registrar, factory, topic_reader
) -> None:
    people = [factory.person() for _ in range(60)]
    for person in people:
        person.pop("death_date", None)
    body = b"".join(to_ndjson(people))
    report = (await committing_client.post(IMPORTS, content=body, headers={**registrar, **NDJSON})).json()
    assert report["accepted"] == len(people), report
    changed = people[0]["id_number"]
    patched = await committing_client.patch(
        f"{PERSONS}/{changed}", json={"household_address": "新地址"}, headers={**registrar, "If-Match": '"1"'}
    )
    assert patched.status_code == 200
    subjects = {person["id_number"] for person in people}

    def mine(messages: list) -> list:
        return [message for message in messages if message.key in subjects]

    messages = await topic_reader.read(
        PERSON_TOPIC, until=lambda found: len(mine(found)) >= len(people) + 1, timeout=30, settle=1.0
    )
    events = [CloudEvent.model_validate(message.value) for message in mine(messages)]
    registered = {event.subject: event for event in events if event.type == PersonRegistered.event_type}
    assert set(registered) == subjects
    assert len(events) == len(people) + 1, "each event once"
    for person in people:
        event = registered[person["id_number"]]
        assert event.data["record"]["name"] == person["name"]
        assert event.id == derived_event_id(event.time, report["id"], person["id_number"])
    first, second = [event for event in events if event.subject == changed]
    assert (first.type, second.type) == (PersonRegistered.event_type, "gov.onesource.population.person.updated.v1")
    assert first.data["record"]["household_address"] == people[0].get("household_address")
    assert second.data["record"]["household_address"] == "新地址"


async def test_a_registration_is_one_transaction_with_its_version_and_event(population_app, factory) -> None:
    """A registration's row, first version and event are written by plain SQL on the session's connection: all in
    the session's transaction, so a registration rolled back (a crash before the commit) leaves none of them."""
    from sqlalchemy import text

    from onesource.kit.auth import Principal
    from onesource.population.persons import service
    from onesource.population.persons.schemas import PersonCreate

    person = factory.person()
    person.pop("death_date", None)
    by = Principal(client_id="psb-registrar", department="psb", roles=frozenset({"registrar"}))
    async with population_app.state.sessionmaker() as session:
        await service.register(session, PersonCreate.model_validate(person), by)
        await session.rollback()
    async with population_app.state.engine.connect() as connection:
        found = await connection.execute(
            text(
                "SELECT (SELECT count(*) FROM person WHERE id_number = :key),"
                " (SELECT count(*) FROM person_version WHERE id_number = :key),"
                " (SELECT count(*) FROM outbox_event WHERE key = :key)"
            ),
            {"key": person["id_number"]},
        )
        assert tuple(found.one()) == (0, 0, 0)
