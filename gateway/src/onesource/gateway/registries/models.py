"""The registry read model's table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from onesource.gateway.models import Base


class CatalogRegistry(Base):
    """A registry service and the department that owns its data, as the catalog last announced it."""

    __tablename__ = "catalog_registry"

    service: Mapped[str] = mapped_column(Text, primary_key=True)
    owner: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    """When this row last changed."""
