"""A large answer is read in two halves at once, the second on a connection of the read pool: the same answer."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from onesource.kit.testing.plugin import api_client
from onesource.macroeconomy.data import repository

CSV = "application/vnd.sdmx.data+csv;version=2.0.0"
LOADS = "/v1/dataflows/GDP_Q/loads"


async def test_an_answer_read_in_halves_is_the_answer_read_whole(
    macroeconomy_app, registrar, gdp_csv, monkeypatch
) -> None:
    areas = ("530102", "530103", "530111", "530112")
    combinations = itertools.product(areas, ("VA_PRIMARY", "VA_TERTIARY"), (1, 2, 3, 4))
    rows = [("Q", area, kind, "IDX", f"2020-Q{q}", f"{n}.25", "") for n, (area, kind, q) in enumerate(combinations)]
    key = f"/v1/data/GDP_Q/Q.{'+'.join(areas)}.VA_PRIMARY+VA_TERTIARY.IDX"
    read_in_halves: list[bool] = []
    whole = repository._in_halves

    async def noted(*arguments):  # type: ignore[no-untyped-def]
        found = await whole(*arguments)
        read_in_halves.append(found is not None)
        return found

    monkeypatch.setattr(repository, "_in_halves", noted)
    embargo = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")  # no release event
    # committed (no rolled-back test transaction): the helper's connection reads what was committed
    async with api_client(macroeconomy_app) as http:
        response = await http.post(
            f"{LOADS}?release_at={embargo}", content=gdp_csv(*rows), headers={**registrar, "Content-Type": CSV}
        )
        assert response.status_code == 201, response.text
        vintage = response.json()["vintage"]
        try:
            answers = {}
            for split in (2, 10**9):
                monkeypatch.setattr(repository, "SPLIT_SERIES", split)
                message = (await http.get(key, headers=registrar)).json()
                table = (await http.get(key, headers={**registrar, "Accept": CSV})).text
                answers[split] = (message["data"], table)
        finally:
            async with macroeconomy_app.state.engine.begin() as connection:
                for statement in (
                    "DELETE FROM observation WHERE vintage_id = :vintage",
                    "DELETE FROM series WHERE created_vintage = :vintage",
                    "DELETE FROM vintage WHERE id = :vintage",
                ):
                    await connection.execute(text(statement), {"vintage": vintage})
    assert read_in_halves == [True, True]  # JSON and CSV, each of 8 series
    assert answers[2] == answers[10**9]
    series = answers[2][0]["dataSets"][0]["series"]
    assert len(series) == 8
    assert sum(len(found["observations"]) for found in series.values()) == 32
    assert answers[2][1].count("\r\n") == 33
