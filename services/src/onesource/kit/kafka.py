"""Kafka clients configured from :class:`KafkaSettings`: producer, topic provisioning, readiness."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from onesource.kit.settings import KafkaSettings

logger = logging.getLogger(__name__)


class _Startable(Protocol):
    async def start(self) -> Any: ...


#: How long a client's interrupted start-up may take to finish before it is abandoned.
_START_GRACE_SECONDS = 5.0


async def start_client(client: _Startable, *, timeout: float | None = None) -> None:
    """Start an aiokafka client so that an interrupted start never leaks a connection.

    aiokafka leaks its bootstrap connection when ``start()`` is cancelled half-way (even after ``stop()``), so
    the start runs shielded: on cancellation or timeout it is given a moment to finish, and the caller then
    stops or closes the client as usual.
    """
    starting = asyncio.ensure_future(client.start())
    try:
        await asyncio.wait_for(asyncio.shield(starting), timeout)
    except BaseException:
        await asyncio.wait({starting}, timeout=_START_GRACE_SECONDS)
        if not starting.done():
            starting.cancel()
        with contextlib.suppress(BaseException):
            await starting
        raise


def create_producer(settings: KafkaSettings, *, client_id: str) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica (``acks=all``), idempotent where the broker allows."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.idempotence,
        linger_ms=2,
        request_timeout_ms=settings.request_timeout_ms,
    )


async def ensure_topics(settings: KafkaSettings, topics: Iterable[str], *, client_id: str) -> None:
    """Create the topics that do not exist yet; existing ones are left as they are."""
    wanted = sorted(set(topics))
    if not wanted:
        return
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap,
        client_id=f"{client_id}-admin",
        request_timeout_ms=settings.request_timeout_ms,
    )
    try:
        await start_client(admin)
        existing = set(await admin.list_topics())
        missing = [topic for topic in wanted if topic not in existing]
        if not missing:
            return
        try:
            await admin.create_topics(
                [
                    NewTopic(
                        name=topic,
                        num_partitions=settings.partitions,
                        replication_factor=settings.replication_factor,
                    )
                    for topic in missing
                ]
            )
        except TopicAlreadyExistsError:
            pass  # another process won the race; the topic is there, which is all we need
        logger.info("provisioned topics", extra={"topics": missing})
    finally:
        await admin.close()


async def broker_reachable(settings: KafkaSettings, *, timeout: float = 2.0) -> bool:
    """Whether a broker of the bootstrap list answers a metadata request in time."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap, request_timeout_ms=int(timeout * 1000), client_id="readyz"
    )
    try:
        await start_client(admin, timeout=timeout)
        await asyncio.wait_for(admin.list_topics(), timeout)
    except Exception:  # any failure means "not ready"; the reason is logged by aiokafka
        return False
    finally:
        await admin.close()
    return True
