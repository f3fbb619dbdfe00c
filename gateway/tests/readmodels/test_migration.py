from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData

from onesource.gateway.grants.models import AccessGrant
from onesource.gateway.registries.models import CatalogRegistry
from onesource.gateway.resources.models import CatalogResource

READ_MODEL_TABLES = {CatalogResource.__tablename__, CatalogRegistry.__tablename__, AccessGrant.__tablename__}


async def test_migrations_create_the_read_model_tables_as_the_models_describe(gateway_app) -> None:
    def differences(connection):
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, parent: kind != "table" or name in READ_MODEL_TABLES,
            },
        )
        ours = MetaData()
        for table in (CatalogResource.__table__, CatalogRegistry.__table__, AccessGrant.__table__):
            table.to_metadata(ours)
        return compare_metadata(context, ours)

    async with gateway_app.state.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []
