"""What the one door keeps in each gateway process: rate-limit buckets, the cursor seal, the gateway's own tokens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from onesource.gateway.forwarding.cursors import CursorSeal
from onesource.gateway.forwarding.limits import TokenBuckets
from onesource.gateway.forwarding.sdmx import StructureDimensions
from onesource.gateway.forwarding.tokens import GatewayTokens, Signer
from onesource.gateway.forwarding.upstream import HttpUpstreams
from onesource.gateway.keys import service as keys
from onesource.gateway.settings import Settings
from onesource.kit.app import background
from onesource.kit.db import sessionmaker_for

logger = logging.getLogger(__name__)


@asynccontextmanager
async def door(app: FastAPI) -> AsyncIterator[None]:
    """Kit extension: rate-limit buckets, cursor seal, gateway tokens and the connections to the services.

    They are ``app.state.rate_limits``, ``cursor_seal``, ``gateway_tokens``, ``upstreams`` and ``sdmx_structures``.

    The tokens' signer is re-read in the background: a rotation reaches the data path within
    ``signer_refresh_seconds``.
    """
    settings: Settings = app.state.settings
    app.state.rate_limits = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
    app.state.cursor_seal = CursorSeal(settings.key_encryption_secret)
    app.state.sdmx_structures = StructureDimensions()
    tokens = GatewayTokens(
        issuer=settings.issuer, audience=settings.audience, lifetime_seconds=settings.service_token_lifetime_seconds
    )
    app.state.gateway_tokens = tokens
    # Its own sessions on the engine, never the request sessionmaker (tests bind that to one shared connection).
    sessionmaker = sessionmaker_for(app.state.engine)

    async def load_signer() -> None:
        async with sessionmaker() as session:
            kid, key = await keys.signer(session, settings)
        if tokens.signer is None or tokens.signer.kid != kid:
            tokens.use(Signer(kid, key))

    async def keep_loading() -> None:
        while True:
            await asyncio.sleep(settings.signer_refresh_seconds)
            try:
                await load_signer()
            except Exception as error:  # keep signing with the key we have; it stays valid for a while
                logger.warning("could not re-read the signing key: %r", error)

    await load_signer()  # the bootstrap extension, which runs first, made sure there is one
    app.state.upstreams = HttpUpstreams()
    try:
        async with background(keep_loading(), name="gateway-signer"):
            yield
    finally:
        await app.state.upstreams.aclose()
