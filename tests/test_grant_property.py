"""Property over the running mesh: whatever grants a department holds, no answer carries a field outside them.

Each example is a new department that asks for random fields of both population resources under one of two
purposes (the conditional one decided and confirmed), then reads one person and a page through the gateway with
the first purpose. The answer must hold exactly the fields granted for that purpose — never one more — and a
department whose grants are all for the other purpose is refused.
"""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Mesh, eventually
from tests.test_flow import OTHER_PURPOSE, PURPOSE, Department, problem_type, read_person, request_share, some_person

BASE = ["id_number", "name", "sex", "ethnicity", "birth_date", "deceased"]
EXTENDED = ["household_address", "marital_status", "education", "household_region_code", "birthplace_code"]

asks = st.lists(
    st.tuples(
        st.sampled_from(["population.person", "population.person-extended"]),
        st.sampled_from([PURPOSE, OTHER_PURPOSE]),
        st.data(),
    ),
    min_size=1,
    max_size=3,
)


def test_no_combination_of_grants_returns_a_field_outside_them(mesh: Mesh) -> None:
    person = some_person(mesh, 6)

    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(asks=asks)
    def check(asks: list[tuple[str, str, Any]]) -> None:
        department = Department(mesh)
        granted: dict[str, set[str]] = {PURPOSE: set(), OTHER_PURPOSE: set()}
        for resource, purpose, data in asks:
            choices = BASE if resource == "population.person" else EXTENDED
            fields = data.draw(st.lists(st.sampled_from(choices), min_size=1, max_size=4, unique=True))
            request_share(mesh, department, resource, fields, purpose)
            granted[purpose] |= set(fields)

        expected = granted[PURPOSE]
        if not expected:
            # Every grant is for the other purpose: once they are known, this purpose is refused.
            other = department.headers(purpose_text=OTHER_PURPOSE)
            eventually(lambda: read_person(mesh, person["id_number"], other).status_code == 200)
            refused = read_person(mesh, person["id_number"], department.headers())
            assert refused.status_code == 403
            assert problem_type(refused) == "purpose-mismatch"
            return

        def read() -> dict[str, Any] | None:
            response = read_person(mesh, person["id_number"], department.headers())
            if response.status_code != 200:
                return None
            body: dict[str, Any] = response.json()
            assert set(body) <= expected, f"fields outside the grants: {set(body) - expected}"
            return body if set(body) == expected else None

        record = eventually(read)
        assert record == {name: person[name] for name in expected}
        page = httpx.get(
            f"{mesh.gateway}/api/population/v1/persons", params={"limit": 30}, headers=department.headers()
        )
        assert page.status_code == 200, page.text
        for item in page.json()["items"]:
            assert set(item) == expected

    check()
