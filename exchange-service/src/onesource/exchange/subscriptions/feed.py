"""Wake-ups for long-polling feed readers: the projector NOTIFYs on commit, one LISTEN connection fans out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI

from onesource.kit.app import background

logger = logging.getLogger(__name__)

#: The projector notifies this channel with the subscription id when it commits a delivery.
DELIVERY_CHANNEL = "onesource_exchange_delivery"


class DeliveryNotifier:
    """Hands each waiting reader an event that is set when its subscription gets a delivery."""

    def __init__(self) -> None:
        self._waiting: defaultdict[str, set[asyncio.Event]] = defaultdict(set)

    @contextlib.contextmanager
    def watch(self, subscription_id: str) -> Iterator[asyncio.Event]:
        """An event set on every delivery to ``subscription_id`` while the block runs."""
        event = asyncio.Event()
        self._waiting[subscription_id].add(event)
        try:
            yield event
        finally:
            waiting = self._waiting.get(subscription_id)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._waiting[subscription_id]

    def notify(self, subscription_id: str) -> None:
        """Wake every reader of ``subscription_id``."""
        for event in self._waiting.get(subscription_id, ()):
            event.set()

    async def listen(self, dsn: str) -> None:
        """Listen until cancelled, reconnecting when the database goes away (readers fall back to polling)."""
        while True:
            try:
                connection = await asyncpg.connect(dsn)
                try:
                    await connection.add_listener(
                        DELIVERY_CHANNEL, lambda _connection, _pid, _channel, payload: self.notify(payload)
                    )
                    while not connection.is_closed():
                        await asyncio.sleep(1)
                finally:
                    await connection.close()
            except (OSError, asyncpg.PostgresError) as error:
                logger.warning("delivery listener reconnecting: %r", error)
                await asyncio.sleep(1)


@asynccontextmanager
async def delivery_notifier(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan step: the notifier on ``app.state.delivery_notifier``, listening while the app runs."""
    notifier = DeliveryNotifier()
    app.state.delivery_notifier = notifier
    dsn = app.state.settings.database_url.get_secret_value().replace("postgresql+asyncpg://", "postgresql://", 1)
    async with background(notifier.listen(dsn), name="exchange-delivery-listener"):
        yield
