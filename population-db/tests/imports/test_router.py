from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from onesource.kit.events import CloudEvent, derived_event_id
from onesource.kit.testing.outbox import events_about
from onesource.population.demo import to_csv, to_ndjson
from onesource.population.imports.events import REGISTRATIONS
from onesource.population.main import RENDERERS
from onesource.population.persons.events import PersonRegistered

IMPORTS = "/v1/imports"
PERSONS = "/v1/persons"
CSV = {"Content-Type": "text/csv; charset=utf-8"}
NDJSON = {"Content-Type": "application/x-ndjson"}


async def test_ndjson_import_registers_good_rows_and_reports_bad_ones(client, registrar, factory, events) -> None:
    good = [factory.person() for _ in range(5)]
    bad_checksum = {**factory.person()}
    bad_checksum["id_number"] = bad_checksum["id_number"][:17] + ("0" if bad_checksum["id_number"][17] != "0" else "1")
    wrong_sex = {**factory.person()}
    wrong_sex["sex"] = "1" if wrong_sex["sex"] == "2" else "2"
    lines = [json.dumps(person, ensure_ascii=False) for person in good]
    lines.insert(2, json.dumps(bad_checksum))
    lines.insert(4, "{not json")
    lines.append(json.dumps(wrong_sex))
    lines.append("[1, 2]")
    lines.append(json.dumps(good[0]))  # the same person again
    lines.append(json.dumps({**factory.person(), "colour": "blue"}))
    lines.append(json.dumps({**factory.person(), "household_address": "北京市\x00朝阳区"}))
    response = await client.post(IMPORTS, content="\n".join(lines).encode(), headers={**registrar, **NDJSON})
    assert response.status_code == 201, response.text
    report = response.json()
    assert response.headers["location"] == f"{IMPORTS}/{report['id']}"
    assert report["status"] == "completed"
    assert report["format"] == "ndjson"
    assert (report["rows_read"], report["accepted"], report["rejected"]) == (12, 5, 7)
    by_line = {error["line"]: error for error in report["errors"]}
    assert by_line[3]["field"] == "id_number"
    assert "check character" in by_line[3]["reason"]
    assert by_line[5]["field"] is None
    assert "not JSON" in by_line[5]["reason"]
    assert by_line[8]["field"] == "sex"
    assert by_line[9]["reason"] == "each line must be one JSON object"
    assert by_line[10]["reason"] == "duplicate of line 1"
    assert by_line[11]["field"] == "colour"
    assert (by_line[12]["field"], by_line[12]["reason"]) == ("household_address", "contains a NUL character (U+0000)")
    assert report["errors_truncated"] is False

    for person in good:
        read = await client.get(f"{PERSONS}/{person['id_number']}", headers=registrar)
        assert read.status_code == 200
        assert read.json()["name"] == person["name"]
        [event] = await events(person["id_number"])
        assert event["type"] == "gov.onesource.population.person.registered.v1"
    assert await events(wrong_sex["id_number"]) == []

    history = await client.get(f"{PERSONS}/{good[1]['id_number']}/history", headers=registrar)
    [version] = history.json()["items"]
    assert version["import_id"] == report["id"]
    assert version["recorded_by"] == "psb-registrar"


async def test_imported_events_equal_the_ones_the_api_writes(client, registrar, factory, events) -> None:
    person = factory.person()
    person.pop("death_date", None)
    response = await client.post(IMPORTS, content=b"".join(to_ndjson([person])), headers={**registrar, **NDJSON})
    report = response.json()
    assert report["accepted"] == 1
    [event] = await events(person["id_number"])
    imported = CloudEvent.model_validate(event)
    registered = (await client.get(f"{PERSONS}/{person['id_number']}", headers=registrar)).json()
    record = {k: v for k, v in registered.items() if k not in {"version", "created_at", "updated_at"}}
    expected = PersonRegistered(record=record).to_cloudevent()
    assert imported.model_dump(exclude={"id", "time"}) == expected.model_dump(exclude={"id", "time"})
    assert imported.time == datetime.fromisoformat(registered["created_at"])  # the import's transaction time
    # derived, so that an event rendered again (after a relay failure) keeps its id
    assert imported.id == derived_event_id(imported.time, report["id"], person["id_number"])
    assert uuid.UUID(imported.id).version == 7


async def _deferred_keys(connection, import_id: str) -> list[str]:
    """The ID numbers whose registrations the import deferred (``imports.events``), in outbox order."""
    rows = await connection.execute(
        text(
            "SELECT payload FROM outbox_event WHERE renderer = :renderer"
            " AND payload->'details'->>'import_id' = :id ORDER BY id"
        ),
        {"renderer": REGISTRATIONS, "id": import_id},
    )
    return [key for row in rows for key in row.payload["keys"]]


async def test_csv_import_with_quotes_semicolon_former_names_and_a_header(client, registrar, factory) -> None:
    people = [factory.person() for _ in range(3)]
    people[0]["household_address"] = '幸福路1号, "东"门\n二层'
    people[1]["former_names"] = ["李大", "李二"]
    body = b"".join(to_csv(people))
    response = await client.post(IMPORTS, content=body, headers={**registrar, **CSV})
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == 3, response.json()
    first = (await client.get(f"{PERSONS}/{people[0]['id_number']}", headers=registrar)).json()
    assert first["household_address"] == '幸福路1号, "东"门\n二层'
    second = (await client.get(f"{PERSONS}/{people[1]['id_number']}", headers=registrar)).json()
    assert second["former_names"] == ["李大", "李二"]


async def test_csv_rows_with_the_wrong_number_of_fields_are_reported(client, registrar, factory) -> None:
    lines = b"".join(to_csv([factory.person()])).decode().splitlines()
    lines.append("only,three,fields")
    lines.append('"unterminated,')
    response = await client.post(IMPORTS, content="\n".join(lines).encode(), headers={**registrar, **CSV})
    report = response.json()
    assert (report["accepted"], report["rejected"]) == (1, 2)
    assert "has 3 fields" in report["errors"][0]["reason"]
    assert report["errors"][1]["line"] == 4


async def test_already_registered_persons_are_refused_not_overwritten(client, registrar, factory) -> None:
    person = factory.person()
    person.pop("death_date", None)
    assert (await client.post(PERSONS, json=person, headers=registrar)).status_code == 201
    renamed = {**person, "name": "改名"}
    response = await client.post(IMPORTS, content=b"".join(to_ndjson([renamed])), headers={**registrar, **NDJSON})
    [error] = response.json()["errors"]
    assert error["reason"] == "a person with this ID number is already registered"
    assert (await client.get(f"{PERSONS}/{person['id_number']}", headers=registrar)).json()["name"] == person["name"]


async def test_a_file_that_cannot_be_read_imports_nothing(client, registrar, factory) -> None:
    unknown_column = b"id_number,name,shoe_size\n1,2,3\n"
    response = await client.post(IMPORTS, content=unknown_column, headers={**registrar, **CSV})
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/invalid-import-file")
    assert "shoe_size" in problem["detail"]
    failed = await client.get(f"{IMPORTS}/{problem['import_id']}", headers=registrar)
    assert failed.json()["status"] == "failed"

    person = factory.person()
    latin1 = (json.dumps(person, ensure_ascii=False) + "\n").encode() + "é\n".encode("latin-1")
    response = await client.post(IMPORTS, content=latin1, headers={**registrar, **NDJSON})
    assert response.status_code == 422
    assert "UTF-8" in response.json()["detail"]
    assert (await client.get(f"{PERSONS}/{person['id_number']}", headers=registrar)).status_code == 404

    empty = await client.post(IMPORTS, content=b"", headers={**registrar, **CSV})
    assert empty.status_code == 422


async def test_unsupported_media_type_is_415(client, registrar) -> None:
    response = await client.post(IMPORTS, content=b"<xml/>", headers={**registrar, "Content-Type": "application/xml"})
    assert response.status_code == 415
    assert response.json()["type"].endswith("/unsupported-media-type")


async def test_only_the_owners_registrars_import_and_only_the_owner_reads_reports(
    client, registrar, owner_consumer, foreign_registrar, factory
) -> None:
    body = b"".join(to_ndjson([factory.person()]))
    for caller in (owner_consumer, foreign_registrar):
        assert (await client.post(IMPORTS, content=body, headers={**caller, **NDJSON})).status_code == 403
    report = (await client.post(IMPORTS, content=body, headers={**registrar, **NDJSON})).json()
    assert (await client.get(f"{IMPORTS}/{report['id']}", headers=owner_consumer)).status_code == 200
    assert (await client.get(f"{IMPORTS}/{report['id']}", headers=foreign_registrar)).status_code == 403
    listed = await client.get(IMPORTS, headers=registrar)
    assert report["id"] in [item["id"] for item in listed.json()["items"]]


async def test_error_report_pages_in_file_order(client, registrar, factory) -> None:
    rows = [json.dumps({**factory.person(), "sex": "0"}) for _ in range(7)]
    report = (await client.post(IMPORTS, content="\n".join(rows).encode(), headers={**registrar, **NDJSON})).json()
    lines: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"{IMPORTS}/{report['id']}/errors", params=params, headers=registrar)).json()
        lines.extend(error["line"] for error in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert lines == list(range(1, 8))
    bad_cursor = await client.get(f"{IMPORTS}/{report['id']}/errors", params={"cursor": "eA"}, headers=registrar)
    assert bad_cursor.status_code == 422


async def test_hundred_thousand_rows_with_bad_ones(client, registrar, factory, connection) -> None:
    people = list(factory.persons(100_000))
    bad_lines = set(range(7, 100_000, 9_973))
    for index in bad_lines:
        people[index] = {**people[index], "birth_date": "1900-01-01"}
    body = to_csv(people)

    async def stream():  # the upload arrives in pieces, as over a network
        for chunk in body:
            yield chunk

    started = time.perf_counter()
    response = await client.post(IMPORTS, content=stream(), headers={**registrar, **CSV})
    print(f"import of 100,000 rows took {time.perf_counter() - started:.1f} s")  # noqa: T201 - shown with -s
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["rows_read"] == 100_000
    assert report["rejected"] == len(bad_lines)
    assert report["accepted"] == 100_000 - len(bad_lines)
    assert sorted(error["line"] for error in report["errors"]) == sorted(index + 2 for index in bad_lines)
    assert {error["field"] for error in report["errors"]} == {"birth_date"}

    ids = [person["id_number"] for index, person in enumerate(people) if index not in bad_lines]
    bad_ids = [people[index]["id_number"] for index in bad_lines]
    persons = await connection.scalar(text("SELECT count(*) FROM person WHERE id_number = ANY(:ids)"), {"ids": ids})
    assert persons == len(ids)
    assert (
        await connection.scalar(text("SELECT count(*) FROM person WHERE id_number = ANY(:ids)"), {"ids": bad_ids}) == 0
    )
    # each is registered by this import, which is also its first version (see models.Person.import_id)
    registered = await connection.scalar(
        text("SELECT count(*) FROM person WHERE import_id = CAST(:id AS uuid)"), {"id": report["id"]}
    )
    assert registered == len(ids)
    deferred = await _deferred_keys(connection, report["id"])
    assert sorted(deferred) == sorted(ids), "one registration event is deferred for each good row, none for a bad one"


def _without_death(person: dict[str, Any]) -> dict[str, Any]:
    person.pop("death_date", None)
    return person


async def test_an_imported_person_has_the_history_a_registered_one_has(client, registrar, factory, connection) -> None:
    imported, registered = _without_death(factory.person()), _without_death(factory.person())
    report = (
        await client.post(IMPORTS, content=b"".join(to_ndjson([imported])), headers={**registrar, **NDJSON})
    ).json()
    assert (await client.post(PERSONS, json=registered, headers=registrar)).status_code == 201
    url = f"{PERSONS}/{imported['id_number']}"
    person = (await client.get(url, headers=registrar)).json()

    [first] = (await client.get(f"{url}/history", headers=registrar)).json()["items"]
    [api_first] = (await client.get(f"{PERSONS}/{registered['id_number']}/history", headers=registrar)).json()["items"]
    record = {key: value for key, value in person.items() if key not in {"version", "created_at", "updated_at"}}
    assert first == {**api_first, "import_id": report["id"], "changes": record, "record": record,
                     "recorded_at": person["created_at"]}  # fmt: skip

    # The first change writes the first version out before the second; the history reads the same, and more.
    changed = await client.patch(url, json={"education": "90"}, headers={**registrar, "If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    again, second = (await client.get(f"{url}/history", headers=registrar)).json()["items"]
    assert again == first
    assert second["changes"] == {"education": "90"}
    assert second["record"] == {**record, "education": "90"}
    written = await connection.execute(
        text("SELECT version, import_id FROM person_version WHERE id_number = :id ORDER BY version"),
        {"id": imported["id_number"]},
    )
    assert [(row.version, str(row.import_id) if row.import_id else None) for row in written] == [
        (1, report["id"]),
        (2, None),
    ]


async def test_a_death_as_the_first_change_keeps_the_imported_version(client, registrar, factory) -> None:
    person = _without_death(factory.person())
    await client.post(IMPORTS, content=b"".join(to_ndjson([person])), headers={**registrar, **NDJSON})
    url = f"{PERSONS}/{person['id_number']}"
    [before] = (await client.get(f"{url}/history", headers=registrar)).json()["items"]
    assert (await client.post(f"{url}/death", json={"death_date": "2025-01-02"}, headers=registrar)).status_code == 200
    first, death = (await client.get(f"{url}/history", headers=registrar)).json()["items"]
    assert first == before
    assert death["change"] == "deceased"
    assert death["record"] == {**before["record"], "deceased": True, "death_date": "2025-01-02"}


async def test_a_row_repeating_one_of_an_earlier_batch_is_refused(client, registrar, factory, events) -> None:
    people = [factory.person() for _ in range(1500)]  # the test settings load 1,000 rows per batch
    repeated = {**people[10], "name": "重复"}
    body = b"".join(to_csv([*people, repeated]))
    report = (await client.post(IMPORTS, content=body, headers={**registrar, **CSV})).json()
    assert (report["accepted"], report["rejected"]) == (1500, 1)
    [error] = report["errors"]
    assert (error["line"], error["field"]) == (1502, "id_number")
    assert error["reason"] == "duplicate of an earlier row of this file"
    stored = (await client.get(f"{PERSONS}/{people[10]['id_number']}", headers=registrar)).json()
    assert stored["name"] == people[10]["name"]
    assert len(await events(people[10]["id_number"])) == 1


async def test_a_registration_racing_the_import_wins_and_its_row_is_refused(
    committing_client, registrar, factory
) -> None:
    people = [_without_death(factory.person()) for _ in range(2500)]
    racer = people[2200]  # in the third batch, which is read only after the registration commits
    lines = b"".join(to_csv(people)).split(b"\n")
    paused, resume = asyncio.Event(), asyncio.Event()

    async def upload():
        yield b"\n".join(lines[:1500]) + b"\n"
        paused.set()
        await resume.wait()
        yield b"\n".join(lines[1500:])

    importing = asyncio.create_task(committing_client.post(IMPORTS, content=upload(), headers={**registrar, **CSV}))
    await paused.wait()
    first = await committing_client.post(PERSONS, json={**racer, "name": "抢先"}, headers=registrar)
    assert first.status_code == 201, first.text
    resume.set()
    report = (await importing).json()

    assert (report["accepted"], report["rejected"]) == (2499, 1), report
    [error] = report["errors"]
    assert (error["line"], error["reason"]) == (2202, "a person with this ID number is already registered")
    stored = (await committing_client.get(f"{PERSONS}/{racer['id_number']}", headers=registrar)).json()
    assert stored["name"] == "抢先"
    [version] = (await committing_client.get(f"{PERSONS}/{racer['id_number']}/history", headers=registrar)).json()[
        "items"
    ]
    assert version["import_id"] is None


async def test_an_upload_that_breaks_off_imports_nothing(client, registrar, factory, connection) -> None:
    people = [factory.person() for _ in range(2500)]  # more than the first batches, which load before the break
    body = b"".join(to_csv(people))

    async def upload():
        yield body
        raise ConnectionResetError("the client went away")

    response = await client.post(IMPORTS, content=upload(), headers={**registrar, **CSV})
    assert response.status_code == 500
    ids = [person["id_number"] for person in people]
    assert await connection.scalar(text("SELECT count(*) FROM person WHERE id_number = ANY(:ids)"), {"ids": ids}) == 0
    [failed] = (await client.get(IMPORTS, params={"limit": 1}, headers=registrar)).json()["items"]
    assert await _deferred_keys(connection, failed["id"]) == []
    assert failed["status"] == "failed"
    assert "ConnectionResetError" in failed["failure"]


async def test_text_that_copy_reads_specially_is_stored_as_sent(client, registrar, factory, events) -> None:
    people = [factory.person() for _ in range(3)]
    people[0].update(name="a\\b\tc", household_address="一行\r\n二行\\t\t", former_names=["a,b", 'c"d', "e\\f", "{g}"])
    people[1].update(name="\\N", household_address="\\.", former_names=["NULL", "\\N", "x y"])
    people[2].update(name='{"x"}', household_address=None, former_names=[])
    response = await client.post(IMPORTS, content=b"".join(to_ndjson(people)), headers={**registrar, **NDJSON})
    assert response.json()["accepted"] == 3, response.json()
    for person in people:
        stored = (await client.get(f"{PERSONS}/{person['id_number']}", headers=registrar)).json()
        sent = {field: person.get(field) for field in ("name", "household_address", "former_names")}
        assert {field: stored[field] for field in sent} == sent
        [event] = await events(person["id_number"])
        assert {field: event["data"]["record"][field] for field in sent} == sent


async def test_a_change_before_the_relay_renders_leaves_the_registration_as_imported(
    client, registrar, factory, events
) -> None:
    people = [_without_death(factory.person()) for _ in range(3)]
    await client.post(IMPORTS, content=b"".join(to_ndjson(people)), headers={**registrar, **NDJSON})
    url = f"{PERSONS}/{people[1]['id_number']}"
    assert (await client.patch(url, json={"name": "改名"}, headers={**registrar, "If-Match": '"1"'})).status_code == 200
    died = await client.post(f"{url}/death", json={"death_date": "2025-01-02"}, headers=registrar)
    assert died.status_code == 200

    # the events as the relay renders them now, after the changes: the first version is in the history by then
    registered, renamed, deceased = await events(people[1]["id_number"])
    assert registered["type"].endswith(".registered.v1")
    assert registered["data"]["record"]["name"] == people[1]["name"]
    assert registered["data"]["record"]["deceased"] is False
    assert renamed["data"]["record"]["name"] == "改名"
    assert renamed["data"]["record"]["former_names"] == [*people[1]["former_names"], people[1]["name"]]
    assert deceased["data"]["record"]["death_date"] == "2025-01-02"
    for untouched in (people[0], people[2]):
        [event] = await events(untouched["id_number"])
        assert event["data"]["record"]["name"] == untouched["name"]


async def test_a_registration_whose_first_version_is_missing_is_not_rendered(client, registrar, factory, connection):
    person = _without_death(factory.person())
    await client.post(IMPORTS, content=b"".join(to_ndjson([person])), headers={**registrar, **NDJSON})
    # a broken database: the row changed without its first version being written out
    await connection.execute(text("UPDATE person SET version = 2 WHERE id_number = :id"), {"id": person["id_number"]})
    with pytest.raises(LookupError, match="no first version"):
        await events_about(connection, person["id_number"], RENDERERS)
