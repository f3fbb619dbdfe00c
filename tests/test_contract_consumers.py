"""Consumers against the contracts: every read model of another service's events reads what the contract promises.

Producers are checked against ``contracts/`` where they are generated (``onesource contracts --check``). This checks
the other end: for each service that folds another service's events into a read model, (1) every field its model
requires is a required property of each event type it reads, so no producer can drop it within the contract, and
(2) an event built from the contract alone — required properties only, each a plain value of its declared type —
is read by the model without error. A contract change that would break a consumer fails here, not in production.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from onesource.catalog.departments.schemas import DepartmentData
from onesource.catalog.grants.schemas import GrantData
from onesource.exchange.resources.schemas import RegistryDocument as ExchangeRegistryDocument
from onesource.exchange.resources.schemas import ResourceDocument as ExchangeResourceDocument
from onesource.gateway.grants.schemas import GrantDocument
from onesource.gateway.registries.schemas import RegistryDocument as GatewayRegistryDocument
from onesource.gateway.resources.schemas import ResourceDocument as GatewayResourceDocument

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts" / "events"
RESOURCE_EVENTS = [f"gov.onesource.catalog.resource.{verb}.v1" for verb in ("published", "changed", "retired")]
GRANT_EVENTS = [f"gov.onesource.exchange.grant.{verb}.v1" for verb in ("issued", "revoked", "expired")]
REGISTRY_EVENTS = ["gov.onesource.catalog.registry.assigned.v1"]
DEPARTMENT_EVENTS = ["gov.onesource.identity.department.registered.v1"]

#: (the consuming service, its read model, the event types it reads)
CONSUMERS: list[tuple[str, type[BaseModel], list[str]]] = [
    ("gateway", GatewayResourceDocument, RESOURCE_EVENTS),
    ("gateway", GrantDocument, GRANT_EVENTS),
    ("gateway", GatewayRegistryDocument, REGISTRY_EVENTS),
    ("exchange", ExchangeResourceDocument, RESOURCE_EVENTS),
    ("exchange", ExchangeRegistryDocument, REGISTRY_EVENTS),
    ("catalog", GrantData, GRANT_EVENTS),
    ("catalog", DepartmentData, DEPARTMENT_EVENTS),
]
CASES = [
    pytest.param(model, event_type, id=f"{service}-{model.__name__}-{event_type}")
    for service, model, event_types in CONSUMERS
    for event_type in event_types
]


def contract(event_type: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CONTRACTS / f"{event_type}.json").read_text(encoding="utf-8"))
    return document


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = root["$defs"][name]
    return schema


def example(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """A plain value of ``schema``'s type: required properties only, the first of an enum, a non-null option."""
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if _resolve(option, root).get("type") != "null"]
        return example(options[0], root) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    kind: str = schema.get("type") or ""
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example(properties[name], root) for name in schema.get("required", [])}
    if kind == "array":
        return [example(schema.get("items", {}), root)]
    if kind == "string":
        return {"date-time": "2026-01-05T00:00:00Z", "date": "2026-01-05"}.get(schema.get("format", ""), "x")
    return {"integer": 1, "number": 1.5, "boolean": True, "null": None}.get(kind, "x")


@pytest.mark.parametrize(("model", "event_type"), CASES)
def test_every_field_a_read_model_requires_is_required_by_the_contract(model: type[BaseModel], event_type: str) -> None:
    required_by_contract = set(contract(event_type).get("required", []))
    required_by_model = {name for name, field in model.model_fields.items() if field.is_required()}
    assert required_by_model <= required_by_contract, (
        f"{model.__name__} requires {sorted(required_by_model - required_by_contract)}, "
        f"which {event_type} may leave out"
    )


@pytest.mark.parametrize(("model", "event_type"), CASES)
def test_a_read_model_reads_an_event_built_from_the_contract_alone(model: type[BaseModel], event_type: str) -> None:
    schema = contract(event_type)
    model.model_validate(example(schema, schema))


def test_the_consumers_listed_cover_every_event_type_they_read() -> None:
    # Every contract file named above exists: a renamed event type cannot silently drop out of this check.
    for _, _, event_types in CONSUMERS:
        for event_type in event_types:
            assert (CONTRACTS / f"{event_type}.json").is_file(), event_type
