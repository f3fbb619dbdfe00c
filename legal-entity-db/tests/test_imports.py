"""Bulk import of entities: CSV and NDJSON, each row checked like a registration, one transaction, a per-row report."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from onesource.legal_entity.demo import to_csv, to_ndjson

PROBLEMS = "https://onesource.gov.cn/problems/"
CSV = {"Content-Type": "text/csv"}
NDJSON = {"Content-Type": "application/x-ndjson"}

Events = Callable[[str], Awaitable[list[dict[str, Any]]]]


async def count(connection: AsyncConnection, usccs: list[str]) -> int:
    found = await connection.scalar(text("SELECT count(*) FROM entity WHERE uscc = ANY(:usccs)"), {"usccs": usccs})
    return int(found or 0)


async def test_a_csv_import_registers_good_rows_and_reports_the_others_by_line_and_field(
    client: httpx.AsyncClient,
    registrar: dict[str, str],
    steward: dict[str, str],
    people: Any,
    entity_factory: Any,
    gateway: Any,
    connection: AsyncConnection,
    events: Events,
) -> None:
    representative = await people.living()
    deceased = await people.deceased()
    factory = entity_factory(representative)
    good = list(factory.entities(120))
    good[5]["former_names"] = ["旧名一", "旧名二"]
    wrong_check = factory.entity()
    wrong_check["uscc"] = wrong_check["uscc"][:17] + ("0" if wrong_check["uscc"][17] != "0" else "1")
    bad = [
        wrong_check,  # line 122
        {**factory.entity(), "industry_code": "9290"},  # line 123
        {**factory.entity(), "legal_representative_id": deceased},  # line 124
        good[3],  # line 125: a repeat of line 5
    ]
    asked_before = len(gateway.reads)
    body = b"".join(to_csv([*good, *bad]))
    response = await client.post("/v1/imports", content=body, headers={**registrar, **CSV})
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["status"] == "completed"
    assert (report["rows_read"], report["accepted"], report["rejected"]) == (124, 120, 4)
    assert [(error["line"], error["field"]) for error in report["errors"]] == [
        (122, "uscc"),
        (123, "industry_code"),
        (124, "legal_representative_id"),
        (125, "uscc"),
    ]
    assert report["errors"][3]["reason"] == "duplicate of line 5"
    assert "deceased" in report["errors"][2]["reason"]
    # population-db was asked once per person, not once per row
    assert sorted(set(gateway.reads[asked_before:])) == sorted({representative, deceased})
    assert len(gateway.reads) - asked_before == 2
    assert await count(connection, [entity["uscc"] for entity in good]) == 120
    kept = await client.get(f"/v1/entities/{good[5]['uscc']}", headers=registrar)
    assert kept.json()["former_names"] == ["旧名一", "旧名二"]
    assert kept.json()["registered_capital"] == good[5]["registered_capital"]
    registered = await events(good[7]["uscc"])
    assert [event["type"] for event in registered] == ["gov.onesource.legal-entity.entity.registered.v1"]

    progress = await client.get(response.headers["location"], headers=steward)
    assert progress.status_code == 200
    assert progress.json()["accepted"] == 120
    page = await client.get(f"{response.headers['location']}/errors", params={"limit": 3}, headers=steward)
    rest = await client.get(
        f"{response.headers['location']}/errors", params={"cursor": page.json()["next_cursor"]}, headers=steward
    )
    assert [error["line"] for error in [*page.json()["items"], *rest.json()["items"]]] == [122, 123, 124, 125]
    listed = await client.get("/v1/imports", headers=steward)
    assert listed.json()["items"][0]["id"] == report["id"]


async def test_an_ndjson_import_takes_the_registrations_shape(
    client: httpx.AsyncClient, registrar: dict[str, str], people: Any, entity_factory: Any, connection: AsyncConnection
) -> None:
    factory = entity_factory(await people.living())
    entities = list(factory.entities(3))
    entities[0]["registered_capital"] = {"amount": "123.45", "currency": "USD"}
    lines = b"".join(to_ndjson(entities)) + b'{"uscc": 7}\nnot json\n'
    response = await client.post("/v1/imports", content=lines, headers={**registrar, **NDJSON})
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["accepted"], report["rejected"]) == (3, 2)
    assert {error["line"] for error in report["errors"]} == {4, 5}
    assert any(error["field"] is None and "not JSON" in error["reason"] for error in report["errors"])
    assert await count(connection, [entity["uscc"] for entity in entities]) == 3
    read = await client.get(f"/v1/entities/{entities[0]['uscc']}", headers=registrar)
    assert read.json()["registered_capital"] == {"amount": "123.45", "currency": "USD"}


async def test_when_population_db_cannot_be_asked_nothing_is_imported(
    client: httpx.AsyncClient,
    registrar: dict[str, str],
    steward: dict[str, str],
    people: Any,
    entity_factory: Any,
    gateway: Any,
    connection: AsyncConnection,
) -> None:
    factory = entity_factory(await people.living())
    entities = list(factory.entities(80))
    gateway.population_down = True
    response = await client.post("/v1/imports", content=b"".join(to_csv(entities)), headers={**registrar, **CSV})
    assert response.status_code == 503, response.text
    assert response.json()["type"] == PROBLEMS + "dependency-unavailable"
    import_id = response.json()["import_id"]
    assert await count(connection, [entity["uscc"] for entity in entities]) == 0
    failed = await client.get(f"/v1/imports/{import_id}", headers=steward)
    assert failed.json()["status"] == "failed"
    assert "nothing was imported" in failed.json()["failure"]


async def test_a_file_that_cannot_be_read_imports_nothing(
    client: httpx.AsyncClient, registrar: dict[str, str], foreign_registrar: dict[str, str]
) -> None:
    header = await client.post("/v1/imports", content=b"uscc,nickname\n1,2\n", headers={**registrar, **CSV})
    assert header.status_code == 422
    assert header.json()["type"] == PROBLEMS + "invalid-import-file"
    assert "nickname" in header.json()["detail"]
    encoding = await client.post("/v1/imports", content=b"uscc,name\n\xff\xfe\n", headers={**registrar, **CSV})
    assert encoding.status_code == 422
    media = await client.post("/v1/imports", content=b"{}", headers={**registrar, "Content-Type": "application/json"})
    assert media.status_code == 415
    foreign = await client.post("/v1/imports", content=b"uscc\n", headers={**foreign_registrar, **CSV})
    assert foreign.status_code == 403


async def test_the_import_report_is_the_owners_only(
    client: httpx.AsyncClient, registrar: dict[str, str], foreign_consumer: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/imports", content=json.dumps({}).encode() + b"\n", headers={**registrar, **NDJSON}
    )
    assert response.status_code == 201
    location = response.headers["location"]
    assert (await client.get(location, headers=foreign_consumer)).status_code == 403
    assert (await client.get("/v1/imports/00000000-0000-0000-0000-000000000000", headers=registrar)).status_code == 404


async def test_a_row_with_text_no_database_can_store_is_refused_alone(
    client: httpx.AsyncClient, registrar: dict[str, str], people: Any, entity_factory: Any
) -> None:
    factory = entity_factory(await people.living())
    entities = [factory.entity(), {**factory.entity(), "address": "住所\ud800"}, factory.entity()]
    lines = b"".join(json.dumps(entity).encode() + b"\n" for entity in entities)  # ASCII escapes keep the surrogate
    response = await client.post("/v1/imports", content=lines, headers={**registrar, **NDJSON})
    assert response.status_code == 201, response.text
    assert (response.json()["accepted"], response.json()["rejected"]) == (2, 1)
    assert [(error["line"], error["field"]) for error in response.json()["errors"]] == [(2, "address")]


async def test_imported_records_have_the_version_and_event_an_api_registration_has(
    client: httpx.AsyncClient,
    registrar: dict[str, str],
    people: Any,
    entity_factory: Any,
    events: Events,
) -> None:
    factory = entity_factory(await people.living())
    by_api, taken, *imported = list(factory.entities(4))
    imported[0]["former_names"] = ["旧名\t一", '引号"名']  # text COPY would have to escape; binary does not
    answer = await client.post("/v1/entities", json=by_api, headers=registrar)
    assert answer.status_code == 201, answer.text
    assert (await client.post("/v1/entities", json=taken, headers=registrar)).status_code == 201
    body = b"".join(to_csv([taken, *imported]))
    report = (await client.post("/v1/imports", content=body, headers={**registrar, **CSV})).json()
    assert (report["accepted"], report["rejected"]) == (2, 1), report
    assert report["errors"][0]["line"] == 2
    assert "already registered" in report["errors"][0]["reason"]

    api_event = (await events(by_api["uscc"]))[0]
    for entity in imported:
        read = (await client.get(f"/v1/entities/{entity['uscc']}", headers=registrar)).json()
        assert read["version"] == 1
        first, again = await events(entity["uscc"]), await events(entity["uscc"])
        assert len(first) == 1
        assert first == again, "rendered again (after a relay failure), an event keeps its id"
        event = first[0]
        assert {name: event[name] for name in ("type", "source", "dataschema", "subject")} == {
            "type": api_event["type"],
            "source": api_event["source"],
            "dataschema": api_event["dataschema"],
            "subject": entity["uscc"],
        }
        record = event["data"]["record"]
        assert set(record) == set(api_event["data"]["record"])
        assert record == {name: read[name] for name in record}
        history = (await client.get(f"/v1/entities/{entity['uscc']}/history", headers=registrar)).json()["items"]
        assert [(version["version"], version["change"]) for version in history] == [(1, "registered")]
        assert history[0]["recorded_by"] == "amr-registrar"
        assert history[0]["record"] == record
    changed = await client.patch(
        f"/v1/entities/{imported[0]['uscc']}",
        json={"address": "北京市东城区新地址1号"},
        headers={**registrar, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    first, update = await events(imported[0]["uscc"])
    assert first["data"]["record"]["address"] == imported[0]["address"], "the registered event keeps version 1"
    assert update["data"]["record"]["address"] == "北京市东城区新地址1号"


async def test_imports_one_after_another_on_the_same_connections(
    committing_client: httpx.AsyncClient, registrar: dict[str, str], people: Any, entity_factory: Any
) -> None:
    # Each import's transaction commits (and drops its staging table); the next ones still load.
    factory = entity_factory(await people.living())
    for _ in range(3):
        body = b"".join(to_csv(factory.entities(3)))
        response = await committing_client.post("/v1/imports", content=body, headers={**registrar, **CSV})
        assert response.status_code == 201, response.text
        assert response.json()["accepted"] == 3


async def test_an_imported_entity_is_its_own_first_version_until_it_first_changes(
    client: httpx.AsyncClient,
    registrar: dict[str, str],
    people: Any,
    entity_factory: Any,
    connection: AsyncConnection,
    events: Events,
) -> None:
    factory = entity_factory(await people.living())
    updated, moved = list(factory.entities(2))
    body = b"".join(to_csv([updated, moved]))
    report = (await client.post("/v1/imports", content=body, headers={**registrar, **CSV})).json()
    assert report["accepted"] == 2, report
    usccs = [updated["uscc"], moved["uscc"]]

    async def version_rows() -> int:
        found = await connection.scalar(text("SELECT count(*) FROM entity_version WHERE uscc = ANY(:u)"), {"u": usccs})
        return int(found or 0)

    async def history(uscc: str) -> list[dict[str, Any]]:
        answer = await client.get(f"/v1/entities/{uscc}/history", headers=registrar)
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    # One row per entity: it names its import, and no version row repeats it.
    named = await connection.execute(
        text("SELECT uscc, import_id::text FROM entity WHERE uscc = ANY(:u)"), {"u": usccs}
    )
    assert dict(named.tuples().all()) == {uscc: report["id"] for uscc in usccs}
    assert await version_rows() == 0
    first_versions = {uscc: await history(uscc) for uscc in usccs}
    first_events = {uscc: await events(uscc) for uscc in usccs}
    for uscc in usccs:
        [version] = first_versions[uscc]
        assert (version["version"], version["change"], version["recorded_by"]) == (1, "registered", "amr-registrar")
        assert version["record"] == first_events[uscc][0]["data"]["record"]

    patched = await client.patch(
        f"/v1/entities/{updated['uscc']}",
        json={"address": "北京市东城区新地址2号"},
        headers={**registrar, "If-Match": '"1"'},
    )
    assert (patched.status_code, patched.headers["etag"]) == (200, '"2"'), patched.text
    stale = await client.patch(
        f"/v1/entities/{updated['uscc']}",
        json={"address": "北京市东城区新地址3号"},
        headers={**registrar, "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    status = {"status": "suspended", "reason": "歇业", "effective_on": "2025-06-01"}
    suspended = await client.post(f"/v1/entities/{moved['uscc']}/status", json=status, headers=registrar)
    assert suspended.status_code == 200, suspended.text

    # Each change wrote the first version out before its own: the history and the events answer as before.
    assert await version_rows() == 4
    for uscc, change in ((updated["uscc"], "updated"), (moved["uscc"], "status-changed")):
        versions = await history(uscc)
        assert [(version["version"], version["change"]) for version in versions] == [(1, "registered"), (2, change)]
        assert versions[0] == first_versions[uscc][0]
        now = await events(uscc)
        assert now[0] == first_events[uscc][0], (
            "the registered event is the same, rendered from the written-out version"
        )
        assert len(now) == 2
