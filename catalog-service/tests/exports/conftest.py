"""The official DCAT-AP 3.0.0 shapes with a check of a graph against them, and a directory to export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_asyncio
from pyshacl import validate
from rdflib import Graph

SHAPES = Path(__file__).resolve().parent / "shapes" / "dcat-ap-SHACL.ttl"

Validator = Callable[[Graph], tuple[bool, str]]


@pytest.fixture(scope="session")
def shacl() -> Validator:
    """Checks a graph against the DCAT-AP 3.0.0 shapes: whether it conforms, and pySHACL's report."""
    shapes = Graph().parse(SHAPES, format="turtle")

    def check(data: Graph) -> tuple[bool, str]:
        conforms, _, text = validate(data, shacl_graph=shapes, inference="rdfs", abort_on_first=False)
        return bool(conforms), str(text)

    return check


@pytest_asyncio.fixture(loop_scope="session")
async def directory(catalog, police_steward, market_steward, person, company) -> None:
    """Published resources of every share type and category, in several formats and cycles, and one draft."""
    await catalog.published(person(), police_steward)
    await catalog.published(company(), market_steward)
    await catalog.published(
        person(
            id="population.criminal-record",
            name="违法犯罪记录",
            summary="不予共享的记录",
            share_type="not_shared",
            legal_basis="《治安管理处罚法》",
            update_cycle="semiannual",
            category="department",
            format="database",
            service=None,
            topic=None,
            paths=[],
            fields=[
                {"name": "case_id", "element": "case.id", "data_type": "C", "length": 30, "authoritative": True},
                {
                    "name": "offender",
                    "element": "case.offender",
                    "data_type": "C",
                    "length": 50,
                    "source_element": "person.name",
                },
            ],
            key="case_id",
        ),
        police_steward,
    )
    await catalog.published(
        company(
            id="legal-entity.open-register",
            name="企业公示信息",
            summary="向社会开放的企业登记公示信息",
            share_type="unconditional",
            share_condition=None,
            open_to_public=True,
            open_condition="依《企业信息公示暂行条例》公示",
            update_cycle="annual",
            category="theme",
            format="file/xlsx",
            service=None,
            topic=None,
            paths=[],
            key=None,
            fields=[
                {"name": "registered_on", "element": "entity.registered_on", "data_type": "D", "authoritative": True},
                {"name": "capital", "element": "entity.capital", "data_type": "N", "length": 20, "authoritative": True},
            ],
        ),
        market_steward,
    )
    drafted = [{"name": "x", "element": "draft.x", "data_type": "I", "authoritative": True}]
    await catalog.create(person(id="population.draft", fields=drafted, key="x"), police_steward)
