"""The migrations create exactly the tables the models describe."""

from __future__ import annotations

from onesource.exchange.models import Base
from onesource.kit.testing.schema import schema_differences


async def test_models_and_migrations_agree(exchange_app) -> None:
    diff = await schema_differences(exchange_app.state.engine, Base.metadata)
    assert diff == []
