"""Operator commands that act on one service's code: migrations and contract generation."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from onesource.kit.events import DomainEvent
from onesource.kit.migrations import service_migrations_dir, upgrade
from onesource.kit.settings import ServiceSettings
from onesource.mesh.services import SERVICES, ServiceSpec


def service_named(name: str) -> ServiceSpec:
    """The mesh's entry for ``name``; ValueError naming the choices otherwise."""
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise ValueError(f"unknown service {name!r}; choose one of: {', '.join(s.name for s in SERVICES)}")


def migrate(name: str, revision: str = "head") -> str:
    """Apply ``name``'s migrations to the database its settings name; returns the (redacted) target."""
    spec = service_named(name)
    package = importlib.import_module(f"onesource.{spec.package}")
    settings: ServiceSettings = importlib.import_module(f"onesource.{spec.package}.settings").Settings()
    dsn = settings.database_url.get_secret_value()
    upgrade(service_migrations_dir(str(package.__file__)), dsn, revision)
    return _redacted(dsn)


def _redacted(dsn: str) -> str:
    scheme, _, rest = dsn.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}://{credentials.split(':')[0]}:***@{host}" if at else dsn


def build_app(spec: ServiceSpec) -> FastAPI:
    """The service's app with default settings (nothing is connected until its lifespan runs)."""
    module = importlib.import_module(f"onesource.{spec.package}.main")
    app: FastAPI = module.create_app()
    return app


def contract_documents() -> dict[str, dict[str, Any]]:
    """Every generated contract, by its path under ``contracts/``."""
    documents: dict[str, dict[str, Any]] = {}
    for spec in SERVICES:
        documents[f"openapi/{spec.name}.json"] = build_app(spec).openapi()
    events = {
        event_type: event
        for event_type, event in sorted(DomainEvent.registry.items())
        if event_type.startswith("gov.onesource.") and ".test." not in event_type and ".bench." not in event_type
    }
    documents["asyncapi.json"] = asyncapi_document(events)
    for event_type, event in events.items():
        schema = event.model_json_schema()
        schema["$id"] = event.schema_uri()
        schema["x-topic"] = event.topic
        schema["x-cloudevents-type"] = event_type
        schema["x-cloudevents-source"] = event.source
        documents[f"events/{event_type}.json"] = schema
    return documents


def asyncapi_document(events: dict[str, type[DomainEvent]]) -> dict[str, Any]:
    """AsyncAPI 3.0: one channel per source topic, one CloudEvents message per event type published on it."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for event_type, event in events.items():
        channel = channels.setdefault(
            event.topic,
            {"address": event.topic, "description": "Source topic; Kafka key = CloudEvents subject.", "messages": {}},
        )
        channel["messages"][event_type] = {
            "name": event_type,
            "contentType": "application/cloudevents+json",
            "description": (event.__doc__ or "").strip(),
            "payload": {
                "description": "CloudEvents 1.0 structured mode; `data` follows the schema below.",
                "type": "object",
                "required": ["specversion", "id", "source", "type", "subject", "time", "data"],
                "properties": {"type": {"const": event_type}, "data": {"$ref": f"events/{event_type}.json"}},
            },
        }
    for topic, channel in channels.items():
        operations[f"publish {topic}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic.replace('/', '~1')}"},
            "messages": [
                {"$ref": f"#/channels/{topic.replace('/', '~1')}/messages/{name}"} for name in channel["messages"]
            ],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "OneSource events",
            "version": "1.0.0",
            "description": "Change events of every OneSource service, published through each service's outbox.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
    }


def render(document: dict[str, Any]) -> str:
    """The committed form of a contract: stable key order, UTF-8, trailing newline."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_contracts(root: Path) -> list[Path]:
    """Regenerate ``root`` (``contracts/``): writes every document and removes stale ones."""
    documents = contract_documents()
    written: list[Path] = []
    for relative, document in documents.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    for stale in root.glob("**/*.json"):
        if str(stale.relative_to(root)) not in documents:
            stale.unlink()
    return written


def contract_drift(root: Path) -> list[str]:
    """Paths under ``root`` whose committed content differs from what the code generates."""
    documents = contract_documents()
    drift = [
        relative
        for relative, document in documents.items()
        if not (root / relative).is_file() or (root / relative).read_text(encoding="utf-8") != render(document)
    ]
    drift.extend(
        str(path.relative_to(root)) for path in root.glob("**/*.json") if str(path.relative_to(root)) not in documents
    )
    return sorted(drift)
