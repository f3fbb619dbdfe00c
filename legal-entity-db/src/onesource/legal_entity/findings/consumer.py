"""The consumer of population's person events, as the exchange delivers them to the owning department."""

from __future__ import annotations

from fastapi import FastAPI

from onesource.kit.consumer import EventConsumer
from onesource.legal_entity.findings.service import handle_person_event
from onesource.legal_entity.settings import Settings

CONSUMER_NAME = "legal-entity-findings"


def person_consumer(app: FastAPI) -> EventConsumer:
    """Takes the owner's ``population.person`` deliveries (its subscription's Kafka topic) into the findings."""
    settings: Settings = app.state.settings
    return EventConsumer(
        name=CONSUMER_NAME,
        topics=[settings.person_deliveries_topic],
        kafka=settings.kafka,
        sessionmaker=app.state.sessionmaker,
        handler=handle_person_event,
    )
