"""The consumer that feeds the departments read model from the gateway's department topic."""

from __future__ import annotations

from fastapi import FastAPI

from onesource.catalog.departments.schemas import DEPARTMENT_TOPIC
from onesource.catalog.departments.service import handle_department_event
from onesource.kit.consumer import EventConsumer

CONSUMER_NAME = "catalog-departments"


def department_consumer(app: FastAPI) -> EventConsumer:
    """The department events consumer of a running catalog app."""
    return EventConsumer(
        name=CONSUMER_NAME,
        topics=[DEPARTMENT_TOPIC],
        kafka=app.state.settings.kafka,
        sessionmaker=app.state.sessionmaker,
        handler=handle_department_event,
    )
