"""The migrations create exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from onesource.exchange.models import Base
from onesource.kit.tables import kit_metadata


async def test_models_and_migrations_agree(exchange_app) -> None:
    def differences(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, [Base.metadata, kit_metadata])

    async with exchange_app.state.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []
