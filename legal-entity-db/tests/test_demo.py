"""The demo entities pass every rule, spread over GB 32100's table, and are represented by living adults read
through the gateway; the catalog resources are as DESIGN.md pins them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from onesource.legal_entity.demo import EntityFactory
from onesource.legal_entity.directory import REGISTRY, demo_imports, living_adults, resources
from onesource.legal_entity.entities.rules import entity_problems
from onesource.legal_entity.entities.schemas import EntityCreate, ImportRow
from onesource.registry.imports import parsing

REPRESENTATIVES = ["11010519491231002X", "110105198001010016"]


def test_every_demo_entity_passes_the_rules_and_the_kinds_spread_over_the_table() -> None:
    entities = list(EntityFactory(7, REPRESENTATIVES).entities(2000))
    for entity in entities:
        typed = EntityCreate.model_validate(entity).model_dump()
        assert entity_problems(typed, today=date(2026, 1, 1)) == [], entity
    kinds = Counter(entity["uscc"][:2] for entity in entities)
    assert {"91", "92", "93", "11", "12", "51", "52", "53", "31", "81", "N2", "Y1"} <= set(kinds)
    assert len({entity["uscc"] for entity in entities}) == 2000
    assert {entity["legal_representative_id"] for entity in entities} == set(REPRESENTATIVES)
    assert any(entity["entity_type"].startswith("11") for entity in entities)
    assert any(entity["uscc"][8:10] == "MA" for entity in entities)  # post-2015 organisation codes


def test_the_same_seed_makes_the_same_entities() -> None:
    first = list(EntityFactory(3, REPRESENTATIVES).entities(50))
    again = list(EntityFactory(3, REPRESENTATIVES).entities(50))
    assert first == again


class Reader:
    """Pages of persons as the gateway answers the registry's client under its grant (id_number, deceased)."""

    def __init__(self, persons: list[dict[str, Any]]) -> None:
        self.persons = persons
        self.calls: list[tuple[str, str, Mapping[str, Any] | None]] = []

    def __call__(self, path: str, *, purpose: str, params: Mapping[str, Any] | None = None) -> Any:
        self.calls.append((path, purpose, params))
        start = int((params or {}).get("cursor") or 0)
        items = self.persons[start : start + 200]
        more = start + 200 < len(self.persons)
        return {"items": items, "next_cursor": str(start + 200) if more else None}


def test_demo_imports_are_represented_by_living_adults_read_under_the_grant() -> None:
    persons = [
        {"id_number": "11010519491231002X", "deceased": False},
        {"id_number": "110105198001010016", "deceased": True},
        {"id_number": "110105201501010017", "deceased": False},  # a child
    ] * 150
    reader = Reader(persons)
    assert living_adults(reader, 5, today=date(2026, 1, 1)) == ["11010519491231002X"] * 5
    assert reader.calls[0][0] == "/api/population/v1/persons"
    assert reader.calls[0][1] == REGISTRY.share_requests[0].purpose
    batches = list(demo_imports(1, Reader(persons)))
    assert sum(batch.records for batch in batches) == REGISTRY.demo_records
    rows = [row for batch in batches for row in _rows(batch.content)]
    assert len(rows) == REGISTRY.demo_records
    assert {ImportRow.model_validate(row).legal_representative_id for row in rows} == {"11010519491231002X"}


def _rows(content: bytes) -> list[dict[str, Any]]:
    header, _, _ = content.partition(b"\n")
    block = parsing.Block("csv", 2, content[len(header) + 1 :], final=True, header=tuple(header.decode().split(",")))
    return [row.values for row in parsing.block_rows(block) if row.values is not None]


def test_the_catalog_resources_are_as_pinned() -> None:
    base, extended = resources("amr")
    assert (base["id"], base["share_type"], extended["id"], extended["share_type"]) == (
        "legal-entity.entity",
        "unconditional",
        "legal-entity.entity-extended",
        "conditional",
    )
    assert [field["name"] for field in base["fields"]] == [
        "uscc",
        "name",
        "entity_type",
        "established_on",
        "status",
        "registration_authority",
        "region_code",
        "industry_code",
        "industry_section",
        "address",
    ]
    everything = {field["name"] for field in base["fields"]} | {field["name"] for field in extended["fields"]}
    assert everything == set(EntityCreate.model_fields) | {
        "status",
        "status_reason",
        "status_effective_on",
        "industry_section",
    }
    for field in [*base["fields"], *extended["fields"]]:
        assert field["element"] == f"entity.{field['name']}"
        assert field["authoritative"] is not (field in extended["fields"] and field["name"] == "uscc")
    assert REGISTRY.share_requests[0].fields == ("id_number", "deceased")
    assert REGISTRY.subscriptions == ("population.person",)
