"""What a service's outbox holds, as the relay would publish it: for tests that look inside their own transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import cast, or_
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from onesource.kit import outbox
from onesource.kit.tables import outbox_event


async def events_about(
    connection: AsyncConnection, subject: str, renderers: Mapping[str, outbox.Renderer]
) -> list[dict[str, Any]]:
    """The CloudEvents about ``subject`` in the outbox, oldest first: its own rows', and deferred ones rendered."""
    deferred_about = outbox_event.c.payload.cast(JSONB)["keys"].contains(cast([subject], JSONB))
    rows = await connection.execute(
        outbox.rows_query()
        .where(or_(outbox_event.c.key == subject, outbox_event.c.renderer.is_not(None) & deferred_about))
        .order_by(outbox_event.c.id)
    )
    found: list[dict[str, Any]] = []
    for row in rows:
        for message in await outbox.rendered(connection, row, renderers):
            if message.key == subject:
                found.append(json.loads(message.payload))
    return found
