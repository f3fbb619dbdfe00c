"""The consumer that feeds the active-grants read model from the exchange's grant topic."""

from __future__ import annotations

from fastapi import FastAPI

from onesource.catalog.grants.schemas import GRANT_TOPIC
from onesource.catalog.grants.service import handle_grant_event
from onesource.kit.consumer import EventConsumer

CONSUMER_NAME = "catalog-grants"


def grant_consumer(app: FastAPI) -> EventConsumer:
    """The grant events consumer of a running catalog app."""
    return EventConsumer(
        name=CONSUMER_NAME,
        topics=[GRANT_TOPIC],
        kafka=app.state.settings.kafka,
        sessionmaker=app.state.sessionmaker,
        handler=handle_grant_event,
    )
