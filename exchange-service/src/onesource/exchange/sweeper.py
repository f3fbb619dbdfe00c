"""The periodic sweep: flag and escalate overdue share requests, expire lapsed grants (a lifespan step)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onesource.exchange.grants import service as grants
from onesource.exchange.share_requests import service as share_requests
from onesource.kit.app import background

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepOutcome:
    """What one sweep did."""

    escalated: list[str]
    """Share requests flagged overdue and escalated."""
    expired: list[str]
    """Grants expired."""

    def counted(self) -> tuple[list[str], list[str]]:
        """Both lists, for logging their lengths."""
        return self.escalated, self.expired


async def sweep(session: AsyncSession, now: datetime) -> SweepOutcome:
    """One sweep in the caller's transaction; each request is escalated and each grant expired only once."""
    escalated = await share_requests.escalate_overdue(session, now)
    expired = await grants.expire_lapsed(session, now)
    return SweepOutcome(escalated=[request.id for request in escalated], expired=[grant.id for grant in expired])


async def sweep_forever(sessionmaker: async_sessionmaker[AsyncSession], interval: float) -> None:
    """Sweep every ``interval`` seconds until cancelled; a failed sweep is logged and retried next time."""
    while True:
        try:
            async with sessionmaker() as session, session.begin():
                outcome = await sweep(session, datetime.now(UTC))
            if outcome.escalated or outcome.expired:
                logger.info(
                    "sweep escalated %d requests, expired %d grants", len(outcome.escalated), len(outcome.expired)
                )
        except Exception:  # the next sweep tries again
            logger.exception("sweep failed")
        await asyncio.sleep(interval)


@asynccontextmanager
async def sweeper(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan step: sweep periodically while the app runs."""
    async with background(
        sweep_forever(app.state.sessionmaker, app.state.settings.sweep_seconds), name="exchange-sweeper"
    ):
        yield
