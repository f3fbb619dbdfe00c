"""The outbox relay as a process of its own (``kit.relaying``): it publishes what a service without a relay wrote."""

from __future__ import annotations

import uuid

import pytest
from conftest import widget_settings
from fastapi import FastAPI
from kit_widgets.app import TOPIC, create_app

from onesource.kit import relaying
from onesource.kit.testing.kafka import TopicReader
from onesource.kit.testing.plugin import Infrastructure, api_client, running_app
from onesource.kit.testing.tokens import TestTokens


@pytest.fixture
def relay_env(monkeypatch: pytest.MonkeyPatch, infrastructure: Infrastructure, widgets_dsn: str) -> None:
    """What the mesh gives the relay process: the relayed service's own settings."""
    monkeypatch.setenv("ONESOURCE_ENVIRONMENT", "test")
    monkeypatch.setenv("ONESOURCE_DATABASE_URL", widgets_dsn)
    monkeypatch.setenv("ONESOURCE_KAFKA_BOOTSTRAP", infrastructure.kafka.bootstrap)
    monkeypatch.setenv("ONESOURCE_KAFKA_IDEMPOTENCE", str(infrastructure.kafka.idempotence).lower())
    monkeypatch.setenv("ONESOURCE_RELAY_POLL_SECONDS", "0.2")


@pytest.mark.usefixtures("relay_env")
async def test_the_relay_process_publishes_the_events_of_a_service_that_runs_none(
    infrastructure: Infrastructure, widgets_dsn: str, tokens: TestTokens, topic_reader: TopicReader
) -> None:
    service: FastAPI = create_app(widget_settings(infrastructure, widgets_dsn, relay_enabled=False))
    relay = relaying.create_app(["kit_widgets.app:create_app_from_env"])
    name = f"relayed-{uuid.uuid4().hex[:8]}"
    async with running_app(service, tokens), running_app(relay):
        assert getattr(service.state, "relay", None) is None, "the service itself runs no relay"
        async with api_client(service) as client:
            made = await client.post(
                "/v1/widgets",
                json={"name": name, "colour": "teal"},
                headers=tokens.headers("psb-registrar", "psb", ["registrar"]),
            )
        assert made.status_code == 201
        records = await topic_reader.read(TOPIC, until=lambda got: any(r.key == name for r in got))
        assert [r.key for r in records if r.key == name] == [name]
        async with api_client(relay) as probe:
            ready = await probe.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"widgets": "ok"}
            assert "onesource_outbox_published_total" in (await probe.get("/metrics")).text


def test_the_relay_process_needs_to_be_told_whom_to_relay_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(relaying.APPS_ENV, raising=False)
    with pytest.raises(RuntimeError, match=relaying.APPS_ENV):
        relaying.create_app()
