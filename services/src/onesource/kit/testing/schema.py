"""Whether a service's migrations made the tables its models describe (Alembic's autogenerate comparison)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from onesource.kit.tables import kit_metadata


async def schema_differences(
    engine: AsyncEngine,
    metadata: MetaData,
    *,
    kit_tables: bool = True,
    include_name: Callable[[str | None, str, Any], bool] | None = None,
) -> list[Any]:
    """What the database's schema has otherwise than ``metadata`` (and the kit's tables) says, types included.

    ``include_name``: Alembic's filter of what to compare, for a service whose database holds others' tables too.
    """

    def differences(connection: Connection) -> list[Any]:
        options: dict[str, Any] = {"compare_type": True}
        if include_name is not None:
            options["include_name"] = include_name
        context = MigrationContext.configure(connection, opts=options)
        compared = [metadata, kit_metadata] if kit_tables else [metadata]
        return list(compare_metadata(context, compared))  # type: ignore[arg-type]  # a sequence too, as documented

    async with engine.connect() as connection:
        return await connection.run_sync(differences)
