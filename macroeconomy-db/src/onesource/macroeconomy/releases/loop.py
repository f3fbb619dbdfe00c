"""The release loop: releases embargoed vintages that are due, at start-up and every ``release_poll_seconds``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onesource.kit.app import background
from onesource.macroeconomy.releases.service import release_due
from onesource.macroeconomy.settings import Settings

logger = logging.getLogger(__name__)


async def release_once(sessionmaker: async_sessionmaker[AsyncSession]) -> list[int]:
    """One pass: release what is due, in one transaction (committed with its events); the vintages released."""
    async with sessionmaker() as session, session.begin():
        return await release_due(session)


async def _run(app: FastAPI, every: float) -> None:
    while True:
        try:
            released = await release_once(app.state.sessionmaker)
            if released:
                logger.info("released vintages %s", released)
        except Exception:  # the next pass tries again; a stopped loop would leave releases embargoed for ever
            logger.exception("release pass failed")
        await asyncio.sleep(every)


@asynccontextmanager
async def release_loop(app: FastAPI) -> AsyncIterator[None]:
    """Run the release loop while the app runs (``app.state.release_loop``: its task)."""
    settings: Settings = app.state.settings
    async with background(_run(app, settings.release_poll_seconds), name="macroeconomy-releases") as task:
        app.state.release_loop = task
        yield
