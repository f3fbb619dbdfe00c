"""GB/T 2260 divisions by date, served from the registry's table loaded from the shared standards data."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from onesource.geo.divisions.loading import load
from onesource.standards.divisions import dated_names

DIVISIONS = "/v1/divisions"


async def division(client, headers, code: str, on: str):
    return await client.get(f"{DIVISIONS}/{code}", params={"date": on}, headers=headers)


async def test_a_renamed_code_answers_each_name_on_its_dates(client, registrar) -> None:
    # 130503 邢台市桥西区 was renamed 信都区 on 2020-06-05 (same code)
    before = await division(client, registrar, "130503", "2020-06-04")
    after = await division(client, registrar, "130503", "2020-06-05")
    assert before.status_code == after.status_code == 200
    assert before.json() == {
        "code": "130503",
        "name": "桥西区",
        "level": "county",
        "parent": "130500",
        "valid_from": before.json()["valid_from"],
        "valid_to": "2020-06-05",
    }
    assert after.json()["name"] == "信都区"
    assert after.json()["valid_from"] == "2020-06-05"
    assert after.json()["valid_to"] is None


async def test_an_abolished_code_is_404_after_it_ended_saying_when(client, registrar) -> None:
    # Hangzhou 2021 (浙政发〔2021〕7号): 330103 下城区 abolished, 330113 临平区 created on 2021-03-11
    assert (await division(client, registrar, "330103", "2021-03-10")).json()["name"] == "下城区"
    gone = await division(client, registrar, "330103", "2021-03-11")
    assert gone.status_code == 404
    assert gone.json()["type"].endswith("/division-not-found")
    assert "abolished on 2021-03-11" in gone.json()["detail"]
    early = await division(client, registrar, "330113", "2021-03-10")
    assert early.status_code == 404
    assert "created on 2021-03-11" in early.json()["detail"]
    assert (await division(client, registrar, "330113", "2021-03-11")).json()["name"] == "临平区"
    never = await division(client, registrar, "999999", "2021-03-11")
    assert never.status_code == 404
    assert "not a GB/T 2260 division code" in never.json()["detail"]


async def test_the_children_of_a_division_differ_by_date(client, registrar) -> None:
    async def children(on: str) -> set[str]:
        response = await client.get(DIVISIONS, params={"parent": "330100", "date": on, "limit": 200}, headers=registrar)
        assert response.status_code == 200
        return {item["code"] for item in response.json()["items"]}

    before, after = await children("2021-03-10"), await children("2021-03-11")
    assert before - after == {"330103", "330104"}
    assert after - before == {"330113", "330114"}


async def test_counties_directly_under_a_province_have_it_as_parent(client, registrar) -> None:
    found = await division(client, registrar, "429004", "2024-12-31")  # 仙桃市, 省直辖县级行政单位
    assert found.json()["parent"] == "420000"
    listed = await client.get(
        DIVISIONS, params={"parent": "420000", "level": "county", "limit": 200}, headers=registrar
    )
    assert "429004" in {item["code"] for item in listed.json()["items"]}
    provinces = await client.get(
        DIVISIONS, params={"level": "province", "date": "2024-12-31", "limit": 200}, headers=registrar
    )
    assert len(provinces.json()["items"]) == 34
    assert all(item["parent"] is None for item in provinces.json()["items"])


async def test_pages_follow_each_other_in_code_order(client, registrar) -> None:
    params = {"level": "province", "date": "2024-12-31", "limit": 20}
    first = (await client.get(DIVISIONS, params=params, headers=registrar)).json()
    second = (await client.get(DIVISIONS, params={**params, "cursor": first["next_cursor"]}, headers=registrar)).json()
    codes = [item["code"] for item in first["items"] + second["items"]]
    assert codes == sorted(codes)
    assert len(codes) == 34
    assert second["next_cursor"] is None


async def test_history_lists_every_name(client, registrar) -> None:
    history = (await client.get(f"{DIVISIONS}/130503/history", headers=registrar)).json()["items"]
    assert [name["name"] for name in history] == ["桥西区", "信都区"]


async def test_the_default_date_is_the_registrys_today(client, registrar) -> None:
    today = await client.get(f"{DIVISIONS}/330113", headers=registrar)  # the tests' clock says 2025-06-01
    assert today.status_code == 200


@pytest.mark.parametrize("params", [{"date": "2021-13-01"}, {"parent": "33"}, {"level": "town"}])
async def test_malformed_queries_are_422(client, registrar, params) -> None:
    assert (await client.get(DIVISIONS, params=params, headers=registrar)).status_code == 422


async def test_the_table_holds_the_shared_data_and_a_second_load_changes_nothing(connection, geo_app) -> None:
    rows = (await connection.execute(text("SELECT count(*), count(DISTINCT code) FROM division"))).one()
    names = dated_names()
    assert rows == (len(names), len({name.code for name in names}))
    async with geo_app.state.sessionmaker() as session, session.begin():
        report = await load(session)
    assert (report.listed, report.revised) == (0, 0)


async def test_a_changed_edition_is_loaded_with_an_event_per_changed_code(connection, geo_app, events) -> None:
    # as if the shared data had changed since the last load: the table says 330106 was named otherwise
    await connection.execute(text("UPDATE division SET name = '旧名' WHERE code = '330106'"))
    await connection.execute(text("UPDATE division_load SET digest = 'older'"))
    async with geo_app.state.sessionmaker() as session, session.begin():
        report = await load(session)
    assert (report.listed, report.revised) == (0, 1)
    revised = (await events("330106"))[-1]
    assert revised["type"] == "gov.onesource.geo.division.revised.v1"
    assert revised["data"]["record"]["name"] == "西湖区"
    assert revised["data"]["changes"] == {"name": "西湖区"}
    name = (await connection.execute(text("SELECT name FROM division WHERE code = '330106'"))).scalar_one()
    assert name == "西湖区"


async def test_the_gateway_reads_and_other_departments_do_not(client, gateway, foreign_consumer) -> None:
    assert (await division(client, gateway, "110105", "2024-01-01")).status_code == 200
    assert (await division(client, foreign_consumer, "110105", "2024-01-01")).status_code == 403
