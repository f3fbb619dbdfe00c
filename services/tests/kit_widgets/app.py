"""The widget service: one table, one event, routes that commit, fail, and need roles."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel
from sqlalchemy import Text, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onesource.kit import outbox
from onesource.kit.app import ServiceSpec, create_service_app
from onesource.kit.auth import Principal, require_roles
from onesource.kit.db import TYPE_ANNOTATION_MAP, SessionDep, new_metadata
from onesource.kit.errors import Conflict, NotFound
from onesource.kit.events import DomainEvent
from onesource.kit.settings import ServiceSettings

TOPIC = "onesource.test.widget.v1"
MIGRATIONS = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    metadata = new_metadata()
    type_annotation_map: dict[Any, Any] = TYPE_ANNOTATION_MAP


class Widget(Base):
    __tablename__ = "widget"
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    colour: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class WidgetMade(DomainEvent):
    event_type: ClassVar[str] = "gov.onesource.test.widget.made.v1"
    topic: ClassVar[str] = TOPIC
    source: ClassVar[str] = "/onesource/widgets"
    name: str
    colour: str

    def subject(self) -> str:
        return self.name


class WidgetIn(BaseModel):
    name: str
    colour: str


router = APIRouter(prefix="/v1/widgets", tags=["widgets"])
Maker = Annotated[Principal, Depends(require_roles("registrar"))]


@router.post("", status_code=201)
async def make_widget(body: WidgetIn, session: SessionDep, _: Maker) -> dict[str, str]:
    session.add(Widget(name=body.name, colour=body.colour))
    outbox.add(session, WidgetMade(name=body.name, colour=body.colour))
    await session.flush()
    if body.colour == "forbidden":
        # written, evented, then refused: the whole transaction must vanish
        raise Conflict("forbidden colour")
    return {"name": body.name}


@router.get("/{name}")
async def read_widget(name: str, session: SessionDep, limit: Annotated[int, Query(le=100)] = 10) -> dict[str, str]:
    widget = await session.scalar(select(Widget).where(Widget.name == name))
    if widget is None:
        raise NotFound(f"no widget {name}")
    return {"name": widget.name, "colour": widget.colour}


@router.get("/crash/now")
async def crash() -> None:
    raise RuntimeError("secret internal detail")


@router.get("/crash/database")
async def database_restarting() -> None:
    cause = ConnectionRefusedError(111, "Connection refused")
    raise DBAPIError("SELECT 1", None, cause) from cause  # as SQLAlchemy reports a database it cannot reach


def create_app(settings: ServiceSettings) -> FastAPI:
    return create_service_app(
        ServiceSpec(
            name="widgets",
            title="Widgets",
            description="Kit test service",
            settings=settings,
            metadata=Base.metadata,
            migrations_dir=MIGRATIONS,
            routers=[router],
            topics=[TOPIC],
        )
    )


def create_app_from_env() -> FastAPI:
    """The widget service with its settings from the environment (``ONESOURCE_*``), as uvicorn's factory."""
    return create_app(ServiceSettings())
