"""Revoked tokens: a disabled client's tokens stop working at once, and so do tokens issued before a rotation.

People are listed the same way under their token subject (``person:<username>``): disabled, or refusing tokens from
before a password reset or a sign-out.

Tokens are short-lived JWTs that services verify on their own, so every service must refuse the same tokens as the
gateway: the gateway enforces the list where every call enters, and publishes it
(``GET /api/identity/v1/revocations``) for every service's verifier to honour (see ``onesource.kit.auth``). The list
is derived from the ``client`` table (``disabled``, ``secret_rotated_at``) and kept in memory; the process that
disables a client or rotates its secret updates its copy at once, and every process reloads the table every
``refresh_seconds`` so the others follow within that time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.models import Client, Person
from onesource.gateway.people.schemas import subject_of
from onesource.kit.app import background
from onesource.kit.auth import RevocationList as KitRevocationList
from onesource.kit.db import sessionmaker_for

logger = logging.getLogger(__name__)


class RevocationList(KitRevocationList):
    """The kit's revocation list, kept from the gateway's own ``client`` table."""

    def enabled(self, client_id: str, disabled_at: datetime | None) -> None:
        """Accept new tokens of ``client_id`` again; tokens from before ``disabled_at`` stay refused."""
        self.refuse_before(client_id, _not_before(None, disabled_at))

    def rotated(self, client_id: str, at: datetime) -> None:
        """Refuse tokens of ``client_id`` issued before its secret was rotated at ``at``."""
        if not self.is_revoked(client_id, _not_before(at, None)):  # a disabled client stays disabled
            self.refuse_before(client_id, _not_before(at, None))

    async def reload(self, session: AsyncSession, *, horizon_seconds: float) -> None:
        """Rebuild the list from the ``client`` table; rotations older than ``horizon_seconds`` no longer matter."""
        cutoff = time.time() - horizon_seconds
        rows = await session.execute(
            select(Client.client_id, Client.disabled, Client.secret_rotated_at, Client.disabled_at).where(
                or_(Client.disabled, Client.secret_rotated_at.is_not(None), Client.disabled_at.is_not(None))
            )
        )
        people = await session.execute(
            select(
                Person.username, Person.disabled, Person.password_reset_at, Person.signed_out_at, Person.disabled_at
            ).where(
                or_(
                    Person.disabled,
                    Person.password_reset_at.is_not(None),
                    Person.signed_out_at.is_not(None),
                    Person.disabled_at.is_not(None),
                )
            )
        )
        # A person's password reset or sign-out ends older tokens the way a client's rotation does.
        listed = [
            *rows,
            *(
                (subject_of(username), disabled, _latest(reset_at, signed_out_at), disabled_at)
                for username, disabled, reset_at, signed_out_at, disabled_at in people
            ),
        ]
        fresh = KitRevocationList()
        for client_id, disabled, rotated_at, disabled_at in listed:
            if disabled:
                fresh.disabled(client_id)
                continue
            not_before = _not_before(rotated_at, disabled_at)
            if not_before > cutoff:  # older limits no longer matter: tokens from before them have expired
                fresh.refuse_before(client_id, not_before)
        self.replace(fresh)


def _latest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def _not_before(rotated_at: datetime | None, disabled_at: datetime | None) -> float:
    """The earliest ``iat`` still accepted after a rotation at ``rotated_at`` and a disabling at ``disabled_at``."""
    # ``iat`` has whole seconds: a token from the same second as the rotation (or the disabling, once the client is
    # enabled again) is accepted, a window of under a second, rather than refusing the tokens issued afterwards in
    # that second with the new secret (or after enabling).
    moments = [moment.timestamp() for moment in (rotated_at, disabled_at) if moment is not None]
    return float(math.floor(max(moments))) if moments else 0.0


@asynccontextmanager
async def revocation_list(app: FastAPI) -> AsyncIterator[None]:
    """Kit extension: load the list into ``app.state.revocations`` and keep reloading it."""
    settings = app.state.settings
    revocations = RevocationList()
    app.state.revocations = revocations

    # Its own sessions on the engine, never the request sessionmaker (tests bind that to one shared connection).
    sessionmaker = sessionmaker_for(app.state.engine)

    async def reload() -> None:
        async with sessionmaker() as session:
            await revocations.reload(session, horizon_seconds=settings.token_lifetime_seconds)

    async def keep_reloading() -> None:
        while True:
            await asyncio.sleep(settings.revocation_refresh_seconds)
            try:
                await reload()
            except Exception as error:  # keep the last list; the next pass tries again
                logger.warning("could not reload the token revocation list: %r", error)

    await reload()
    async with background(keep_reloading(), name="gateway-revocations"):
        yield
