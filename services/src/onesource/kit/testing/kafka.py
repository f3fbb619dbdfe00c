"""Reading topics in tests: everything on a topic from the beginning, without a consumer group."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer

from onesource.kit.kafka import start_client


@dataclass(frozen=True)
class Record:
    """One message as a test sees it."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: Any
    """The JSON value, or the raw text when the message is not JSON."""
    headers: dict[str, str]


class TopicReader:
    """Reads whole topics from the first offset; waits until enough records arrived."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    async def read(
        self,
        topic: str,
        *,
        until: Callable[[list[Record]], bool] | None = None,
        timeout: float = 15.0,
        settle: float = 0.0,
    ) -> list[Record]:
        """Every record of ``topic`` once ``until(records)`` holds, plus whatever arrives in the ``settle`` s after.

        Without ``until``, everything that arrives within ``settle`` seconds. The settle time lets a test see
        records that should *not* be there (duplicates, rolled-back events) rather than stop at the first match.
        """
        # No group: aiokafka assigns every partition of the topic and starts at the earliest offset. Metadata is
        # refreshed every second, not every five minutes: a topic that does not exist yet when the reader starts
        # (a restarted in-memory broker has none) is read as soon as it is created.
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=1000,
        )
        records: list[Record] = []
        try:
            await start_client(consumer)
            deadline = time.monotonic() + timeout
            settled_at: float | None = None if until is not None else time.monotonic() + settle
            while settled_at is None or time.monotonic() < settled_at:
                batches = await consumer.getmany(timeout_ms=200)
                for messages in batches.values():
                    records.extend(_record(message) for message in messages)
                if settled_at is None and until is not None and until(records):
                    settled_at = time.monotonic() + settle
                elif settled_at is None and time.monotonic() > deadline:
                    raise TimeoutError(f"waited {timeout}s on {topic}; got {len(records)} records")
            return records
        finally:
            await consumer.stop()


def _record(message: Any) -> Record:
    return Record(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key.decode() if message.key is not None else None,
        value=_json_or_text(message.value),
        headers={name: value.decode("latin-1") for name, value in (message.headers or ())},
    )


def _json_or_text(value: bytes | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value.decode("utf-8", errors="replace")
