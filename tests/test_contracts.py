"""contracts/ holds what the code generates: a changed API or event without `make contracts` fails here."""

from __future__ import annotations

import json
from pathlib import Path

from onesource.mesh.operations import contract_documents, contract_drift
from onesource.mesh.services import SERVICES

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"


def test_committed_contracts_match_the_code() -> None:
    assert contract_drift(CONTRACTS) == [], "run `make contracts` and commit contracts/"


def test_every_service_has_an_openapi_document() -> None:
    documents = contract_documents()
    for spec in SERVICES:
        document = documents[f"openapi/{spec.name}.json"]
        assert document["openapi"].startswith("3.")
        assert {"/healthz", "/readyz", "/metrics"} <= set(document["paths"])


def test_every_committed_event_schema_names_its_topic_and_type() -> None:
    schemas = sorted((CONTRACTS / "events").glob("*.json"))
    assert schemas, "the gateway's identity events at least"
    for path in schemas:
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["x-cloudevents-type"] == path.stem
        assert schema["x-topic"].startswith("onesource.")
        assert "secret" not in json.dumps(schema["properties"]).lower(), f"{path.name} must not carry secrets"


def test_asyncapi_lists_every_event_on_its_topic() -> None:
    asyncapi = json.loads((CONTRACTS / "asyncapi.json").read_text(encoding="utf-8"))
    assert asyncapi["asyncapi"].startswith("3.")
    for path in (CONTRACTS / "events").glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        channel = asyncapi["channels"][schema["x-topic"]]
        assert path.stem in channel["messages"]
