"""Tables of exchange: its own database, its own metadata."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import DeclarativeBase

from onesource.kit.db import TYPE_ANNOTATION_MAP, new_metadata


class Base(DeclarativeBase):
    """Declarative base of this service's tables."""

    metadata = new_metadata()
    type_annotation_map: dict[Any, Any] = TYPE_ANNOTATION_MAP
