from __future__ import annotations

from sqlalchemy import MetaData

from onesource.gateway.grants.models import AccessGrant
from onesource.gateway.registries.models import CatalogRegistry
from onesource.gateway.resources.models import CatalogResource
from onesource.kit.testing.schema import schema_differences

READ_MODEL_TABLES = {CatalogResource.__tablename__, CatalogRegistry.__tablename__, AccessGrant.__tablename__}


async def test_migrations_create_the_read_model_tables_as_the_models_describe(gateway_app) -> None:
    ours = MetaData()
    for table in (CatalogResource.__table__, CatalogRegistry.__table__, AccessGrant.__table__):
        table.to_metadata(ours)
    diff = await schema_differences(
        gateway_app.state.engine,
        ours,
        kit_tables=False,
        include_name=lambda name, kind, parent: kind != "table" or name in READ_MODEL_TABLES,
    )
    assert diff == []
