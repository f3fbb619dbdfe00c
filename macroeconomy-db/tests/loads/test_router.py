"""Loads: checked row by row with line and column, nothing half-loaded; each a vintage; revisions marked R."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.macroeconomy.loads.repository import analyze_observations

CSV = "application/vnd.sdmx.data+csv;version=2.0.0"

LOADS = "/v1/dataflows/GDP_Q/loads"


async def test_a_load_is_a_vintage_and_answers_its_release(client, gdp_csv, registrar) -> None:
    body = gdp_csv(
        ("Q", "330000", "GDP", "CUR", "2024-Q1", "20500.5", ""), ("Q", "330000", "GDP", "CUR", "2024-Q2", "21000", "")
    )
    response = await client.post(LOADS, content=body, headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 201, response.text
    release = response.json()
    assert release["flow"] == "GDP_Q"
    assert release["status"] == "released"
    assert release["series_count"] == 1
    assert release["observation_count"] == 2
    assert release["revised_count"] == 0


async def test_bad_rows_are_refused_with_line_and_column_and_nothing_is_loaded(client, gdp_csv, registrar) -> None:
    body = gdp_csv(
        ("Q", "330000", "GDP", "CUR", "2024-Q1", "1.5", ""),
        ("Q", "999999", "GDP", "CUR", "2024-Q1", "1.5", ""),  # line 3: unknown region
        ("Q", "330000", "GDP", "CUR", "2024-13", "1.5", ""),  # line 4: not a quarter
        ("Q", "330000", "GDP", "CUR", "2024-Q2", "abc", ""),  # line 5: not a number
        ("Q", "330000", "GDP", "CUR", "2024-Q1", "2.5", ""),  # line 6: duplicate of line 2
        ("Q", "330000", "NOPE", "CUR", "2024-Q3", "2.5", ""),  # line 7: unknown indicator
        ("M", "330000", "GDP", "CUR", "2024-01", "2.5", ""),  # line 8: frequency not of this dataflow
        ("Q", "330000", "GDP", "CUR", "2024-Q4", "2.5", "Z"),  # line 9: unknown status
    )
    response = await client.post(LOADS, content=body, headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("/invalid-load")
    found = {(error["line"], error["column"], error["component"]) for error in problem["errors"]}
    assert found == {
        (3, 5, "REF_AREA"),
        (4, 8, "TIME_PERIOD"),
        (5, 9, "OBS_VALUE"),
        (6, 8, "TIME_PERIOD"),
        (7, 6, "INDICATOR"),
        (8, 4, "FREQ"),
        (9, 10, "OBS_STATUS"),
    }
    releases = await client.get("/v1/releases?flow=GDP_Q", headers=registrar)
    assert releases.json()["items"] == []


async def test_a_region_is_checked_against_gb_t_2260_on_the_period(client, gdp_csv, registrar) -> None:
    # 330185 (临安市) became 杭州市临安区 330112 in 2017: a 2014 figure of 330185 is fine, a 2020 one is not
    ok = gdp_csv(("Q", "330185", "GDP", "CUR", "2014-Q1", "100", ""))
    assert (await client.post(LOADS, content=ok, headers={**registrar, "Content-Type": CSV})).status_code == 201
    bad = gdp_csv(("Q", "330185", "GDP", "CUR", "2020-Q1", "100", ""))
    response = await client.post(LOADS, content=bad, headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 422
    assert response.json()["errors"][0]["component"] == "REF_AREA"


async def test_unknown_columns_and_delete_actions_are_refused(client, gdp_csv, registrar) -> None:
    header = "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,INDICATOR,PRICE_BASIS,TIME_PERIOD,OBS_VALUE,EMBARGO_TIME"
    response = await client.post(LOADS, content=(header + "\r\n").encode(), headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 422
    assert response.json()["errors"][0]["column"] == 10
    body = gdp_csv(("Q", "330000", "GDP", "CUR", "2024-Q1", "1", "")).replace(b",I,Q", b",D,Q")
    response = await client.post(LOADS, content=body, headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 422
    assert "Delete" in response.json()["errors"][0]["reason"]


async def test_a_revision_keeps_the_earlier_vintage_and_is_marked_r(client, gdp_csv, registrar) -> None:
    first = gdp_csv(
        ("Q", "320000", "GDP", "CUR", "2024-Q1", "30000", "P"), ("Q", "320000", "GDP", "CUR", "2024-Q2", "31000", "")
    )
    assert (await client.post(LOADS, content=first, headers={**registrar, "Content-Type": CSV})).status_code == 201
    second = gdp_csv(
        ("Q", "320000", "GDP", "CUR", "2024-Q1", "30100", ""), ("Q", "320000", "GDP", "CUR", "2024-Q2", "31000", "")
    )
    response = await client.post(LOADS, content=second, headers={**registrar, "Content-Type": CSV})
    assert response.json()["revised_count"] == 1
    now = await client.get("/v1/data/GDP_Q/Q.320000.GDP.CUR", headers={**registrar, "Accept": CSV})
    rows = [line.split(",") for line in now.text.strip().split("\r\n")]
    assert [(row[7], row[8], row[9]) for row in rows[1:]] == [("2024-Q1", "30100", "R"), ("2024-Q2", "31000", "A")]
    history = await client.get("/v1/data/GDP_Q/Q.320000.GDP.CUR?includeHistory=true", headers=registrar)
    datasets = history.json()["data"]["dataSets"]
    assert len(datasets) == 2
    assert all("validFrom" in dataset for dataset in datasets)


async def test_a_load_may_not_change_a_series_unit(client, gdp_csv, registrar) -> None:
    first = gdp_csv(("Q", "310000", "GDP", "CUR", "2024-Q1", "1", ""))
    assert (await client.post(LOADS, content=first, headers={**registrar, "Content-Type": CSV})).status_code == 201
    second = first.replace(b",CNY,8,2", b",CNY,4,2")
    response = await client.post(LOADS, content=second, headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 422
    assert response.json()["errors"][0]["component"] == "UNIT_MULT"


async def test_only_the_owners_registrars_load(client, gdp_csv, owner_consumer, foreign_consumer, tokens) -> None:
    body = gdp_csv(("Q", "330000", "GDP", "CUR", "2024-Q1", "1", ""))
    for headers in (owner_consumer, foreign_consumer, tokens.headers("amr-registrar", "amr", ["registrar"])):
        response = await client.post(LOADS, content=body, headers={**headers, "Content-Type": CSV})
        assert response.status_code == 403


async def test_unknown_flow_is_404_and_other_media_415(client, gdp_csv, registrar) -> None:
    body = gdp_csv(("Q", "330000", "GDP", "CUR", "2024-Q1", "1", ""))
    assert (
        await client.post("/v1/dataflows/NOPE/loads", content=body, headers={**registrar, "Content-Type": CSV})
    ).status_code == 404
    assert (
        await client.post(LOADS, content=body, headers={**registrar, "Content-Type": "application/xml"})
    ).status_code == 415


async def test_an_sdmx_json_load_is_checked_the_same_way(client, gdp_csv, registrar) -> None:
    csv_body = gdp_csv(
        ("Q", "440000", "GDP", "CUR", "2024-Q1", "35000.5", ""), ("Q", "440000", "GDP", "CUR", "2024-Q2", "36000", "")
    )
    assert (await client.post(LOADS, content=csv_body, headers={**registrar, "Content-Type": CSV})).status_code == 201
    message = (await client.get("/v1/data/GDP_Q/Q.440000.GDP.CUR", headers=registrar)).json()
    # the registry's own answer loads again as a message (EMBARGO_TIME and its values removed: the registry sets it)
    structure = message["data"]["structures"][0]
    structure["attributes"]["observation"] = [
        a for a in structure["attributes"]["observation"] if a["id"] != "EMBARGO_TIME"
    ]
    for series in message["data"]["dataSets"][0]["series"].values():
        for key, observation in series["observations"].items():
            observation[0] = observation[0] + 1
            series["observations"][key] = observation[:2]
    response = await client.post(
        LOADS,
        content=json.dumps(message),
        headers={**registrar, "Content-Type": "application/vnd.sdmx.data+json;version=2.0.0"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["revised_count"] == 2
    series = next(iter(message["data"]["dataSets"][0]["series"].values()))
    series["observations"]["0"][0] = "abc"
    response = await client.post(
        LOADS, content=json.dumps(message), headers={**registrar, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"].startswith("/data/dataSets/0/series/")


async def test_a_revision_load_settles_each_status_against_the_latest_earlier_value(
    client, gdp_csv, registrar, events
) -> None:
    def q(area: str, period: str, value: str, status: str = "") -> tuple[str, str, str, str, str, str, str]:
        return ("Q", area, "GDP", "CUR", period, value, status)

    loads = [
        [q("350000", "2024-Q1", "10"), q("350000", "2024-Q2", "20", "P"), q("360000", "2024-Q1", "5")],
        [q("350000", "2024-Q1", "11"), q("350000", "2024-Q2", "20")],
        [
            q("350000", "2024-Q1", "11"),  # as the latest earlier vintage has it: A, not a revision
            q("350000", "2024-Q2", "21", "E"),  # changed, and loaded with a status: kept, still a revision
            q("350000", "2024-Q3", "30"),  # a period new to an existing series: A
            q("360000", "2024-Q1", ""),  # a value withdrawn (missing): R
            q("370000", "2024-Q1", "7"),  # a new series: A
        ],
    ]
    answers = []
    for rows in loads:
        response = await client.post(LOADS, content=gdp_csv(*rows), headers={**registrar, "Content-Type": CSV})
        assert response.status_code == 201, response.text
        answers.append(response.json())
    assert [answer["revised_count"] for answer in answers] == [0, 1, 2]
    now = await client.get("/v1/data/GDP_Q/Q..GDP.CUR", headers={**registrar, "Accept": CSV})
    rows = [line.split(",") for line in now.text.strip().split("\r\n")[1:]]
    assert {(row[4], row[7]): (row[8], row[9]) for row in rows} == {
        ("350000", "2024-Q1"): ("11", "A"),
        ("350000", "2024-Q2"): ("21", "E"),
        ("350000", "2024-Q3"): ("30", "A"),
        ("360000", "2024-Q1"): ("", "R"),
        ("370000", "2024-Q1"): ("7", "A"),
    }
    history = await client.get(
        "/v1/data/GDP_Q/Q.350000.GDP.CUR?includeHistory=true", headers={**registrar, "Accept": CSV}
    )
    statuses = [tuple(line.split(",")[7:10]) for line in history.text.strip().split("\r\n")[1:]]
    assert statuses == [
        ("2024-Q1", "10", "A"),
        ("2024-Q2", "20", "P"),
        ("2024-Q1", "11", "R"),
        ("2024-Q2", "20", "A"),
        ("2024-Q1", "11", "A"),
        ("2024-Q2", "21", "E"),
        ("2024-Q3", "30", "A"),
    ]
    revised = await events("GDP_Q:Q.350000.GDP.CUR")
    assert [(e["data"]["record"]["vintage"], e["data"]["record"]["time_periods"]) for e in revised] == [
        (answers[1]["vintage"], ["2024-Q1"]),
        (answers[2]["vintage"], ["2024-Q2"]),
    ]
    assert [e["data"]["record"]["time_periods"] for e in await events("GDP_Q:Q.360000.GDP.CUR")] == [["2024-Q1"]]
    assert await events("GDP_Q:Q.370000.GDP.CUR") == []


async def test_a_load_checked_and_stored_block_by_block_is_one_vintage(client, gdp_csv, registrar, monkeypatch) -> None:
    from onesource.macroeconomy.loads import service

    monkeypatch.setattr(service, "BLOCK_ROWS", 2)
    first = gdp_csv(("Q", "450000", "GDP", "CUR", "2024-Q1", "1", ""))
    assert (await client.post(LOADS, content=first, headers={**registrar, "Content-Type": CSV})).status_code == 201
    rows = [
        ("Q", "460000", "GDP", "CUR", "2024-Q1", "5", ""),  # blocks of new series first: straight in
        ("Q", "460000", "GDP", "CUR", "2024-Q2", "6", ""),
        ("Q", "500000", "GDP", "CUR", "2024-Q1", "7", ""),
        ("Q", "450000", "GDP", "CUR", "2024-Q1", "2", ""),  # then a series the registry has: revised
        ("Q", "460000", "GDP", "CUR", "2024-Q3", "8", ""),
    ]
    response = await client.post(LOADS, content=gdp_csv(*rows), headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 201, response.text
    assert {k: response.json()[k] for k in ("series_count", "observation_count", "revised_count")} == {
        "series_count": 3,
        "observation_count": 5,
        "revised_count": 1,
    }
    answer = await client.get("/v1/data/GDP_Q/Q..GDP.CUR", headers={**registrar, "Accept": CSV})
    found = {(row[4], row[7]): (row[8], row[9]) for row in (line.split(",") for line in answer.text.split()[1:])}
    assert found == {
        ("450000", "2024-Q1"): ("2", "R"),
        ("460000", "2024-Q1"): ("5", "A"),
        ("460000", "2024-Q2"): ("6", "A"),
        ("460000", "2024-Q3"): ("8", "A"),
        ("500000", "2024-Q1"): ("7", "A"),
    }
    # a bad row in a later block: the blocks before it are undone, every problem is reported, nothing is stored
    bad = [
        *rows[:4],
        ("Q", "460000", "GDP", "CUR", "2024-Q2", "x", ""),
        ("Q", "510000", "GDP", "CUR", "2024-Q1", "1", ""),
    ]
    response = await client.post(LOADS, content=gdp_csv(*bad), headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 422
    assert [(e["line"], e["component"]) for e in response.json()["errors"]] == [(6, "OBS_VALUE")]
    # a series' unit changed in a later block
    changed = gdp_csv(*rows[:4], ("Q", "450000", "GDP", "CUR", "2024-Q2", "3", "")).replace(
        b"2024-Q2,3,,CNY,8,2", b"2024-Q2,3,,CNY,4,2"
    )
    response = await client.post(LOADS, content=changed, headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 422
    assert response.json()["errors"][0]["component"] == "UNIT_MULT"
    calendar = (await client.get("/v1/releases?flow=GDP_Q", headers=registrar)).json()["items"]
    assert len(calendar) == 2
    assert (await client.get("/v1/data/GDP_Q/Q.480000.GDP.CUR", headers=registrar)).status_code == 404


async def test_a_period_given_twice_in_another_block_is_refused_with_its_line(
    client, gdp_csv, registrar, monkeypatch
) -> None:
    from onesource.macroeconomy.loads import service

    # the quick load leaves repeats to the observation table's key: refused there, then worded row by row
    monkeypatch.setattr(service, "BLOCK_ROWS", 2)
    rows = [
        ("Q", "530000", "GDP", "CUR", "2024-Q1", "1", ""),
        ("Q", "530000", "GDP", "CUR", "2024-Q2", "2", ""),
        ("Q", "540000", "GDP", "CUR", "2024-Q1", "3", ""),
        ("Q", "530000", "GDP", "CUR", "2024-Q1", "4", ""),  # line 5: line 2 again
    ]
    response = await client.post(LOADS, content=gdp_csv(*rows), headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 422, response.text
    assert [(e["line"], e["column"], e["component"]) for e in response.json()["errors"]] == [(5, 8, "TIME_PERIOD")]
    assert "given twice (also at line 2)" in response.json()["errors"][0]["reason"]
    assert (await client.get("/v1/releases?flow=GDP_Q", headers=registrar)).json()["items"] == []
    # a revision of series the registry has goes through the staging table: refused the same way
    first = gdp_csv(*rows[:3])
    assert (await client.post(LOADS, content=first, headers={**registrar, "Content-Type": CSV})).status_code == 201
    response = await client.post(LOADS, content=gdp_csv(*rows), headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 422, response.text
    assert [(e["line"], e["component"]) for e in response.json()["errors"]] == [(5, "TIME_PERIOD")]
    calendar = (await client.get("/v1/releases?flow=GDP_Q", headers=registrar)).json()["items"]
    assert [release["observation_count"] for release in calendar] == [3]


async def test_a_load_of_new_series_leaves_the_series_table_analyzed(client, connection, gdp_csv, registrar) -> None:
    # the data queries' semi-joins are planned from these statistics (data.repository.series)
    rows = [("Q", area, "GDP", "CUR", "2024-Q1", "1.5", "") for area in ("330000", "320000", "110000")]
    response = await client.post(LOADS, content=gdp_csv(*rows), headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 201, response.text
    counted = await connection.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'series'"))
    assert counted == await connection.scalar(text("SELECT count(*) FROM series"))
    assert counted >= 3


async def test_a_load_with_a_byte_order_mark_missing_values_and_periods_of_other_lengths(
    client, gdp_csv, registrar, monkeypatch
) -> None:
    from onesource.macroeconomy.loads import service

    monkeypatch.setattr(service, "BLOCK_ROWS", 2)  # what differs comes in later blocks
    rows = [
        ("Q", "610000", "GDP", "CUR", "2024-Q1", "1.5", ""),
        ("Q", "610000", "GDP", "CUR", "2024-Q2", "2.5", "P"),
        ("Q", "610000", "GDP", "CUR", "2024-Q3", "", ""),  # no value
        ("A", "610000", "GDP", "CUR", "2023", "9", ""),  # a period of another length
    ]
    body = b"\xef\xbb\xbf" + gdp_csv(*rows)  # as some spreadsheet programs write UTF-8
    response = await client.post(LOADS, content=body, headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 201, response.text
    assert {k: response.json()[k] for k in ("series_count", "observation_count")} == {
        "series_count": 2,
        "observation_count": 4,
    }
    answer = await client.get("/v1/data/GDP_Q/.610000.GDP.CUR", headers={**registrar, "Accept": CSV})
    found = {(row[3], row[7]): (row[8], row[9]) for row in (line.split(",") for line in answer.text.split()[1:])}
    assert found == {
        ("Q", "2024-Q1"): ("1.5", "A"),
        ("Q", "2024-Q2"): ("2.5", "P"),
        ("Q", "2024-Q3"): ("", "A"),
        ("A", "2023"): ("9", "A"),
    }


async def test_a_load_growing_the_observations_by_a_tenth_leaves_them_analyzed(
    client, connection, gdp_csv, registrar
) -> None:
    # data queries read each series' periods along the primary key only when planned from these statistics
    statistics = text("SELECT reltuples FROM pg_class WHERE relname = 'observation'")
    await connection.execute(text("ANALYZE observation"))  # (an earlier test's, rolled back, stays in pg_class)
    before = await connection.scalar(statistics)
    assert before == await connection.scalar(text("SELECT count(*) FROM observation"))
    periods = [f"{year}-Q{quarter}" for year in range(2001, 2025) for quarter in (1, 2, 3, 4)]
    areas = ("330000", "320000", "110000", "310000", "440000")
    rows = [("Q", area, "GDP", "CUR", period, "1.5", "") for area in areas for period in periods]
    rows = rows[: max(4, int(before // 10) + 1)]
    assert len(rows) >= before / 10
    response = await client.post(LOADS, content=gdp_csv(*rows), headers={**registrar, "Content-Type": CSV})
    assert response.status_code == 201, response.text
    after = await connection.scalar(statistics)
    assert after == await connection.scalar(text("SELECT count(*) FROM observation"))
    assert after == before + len(rows)
    # a load adding less than a tenth leaves them to autovacuum
    session = AsyncSession(bind=connection)
    assert not await analyze_observations(session, int(after // 10) - 1 if after >= 10 else 0)
