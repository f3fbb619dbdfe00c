"""Releasing vintages: the release events, written once, with the vintage marked released in the same transaction.

A load without embargo is released as it commits. An embargoed one is released by :func:`release_due`, which the
release loop (``releases.loop``) runs at start-up and every ``release_poll_seconds``: a release that fell due while
the service was down fires when it comes back. Each vintage is released once: the loop claims due vintages with
``FOR UPDATE SKIP LOCKED`` (several instances may run) and marks ``released_at`` with the events it writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit import outbox
from onesource.kit.pagination import Slice, paginate
from onesource.macroeconomy.dataflows.definitions import DATAFLOWS
from onesource.macroeconomy.loads import repository as loads
from onesource.macroeconomy.models import Vintage
from onesource.macroeconomy.releases.events import ReleasePublished, SeriesRevised
from onesource.macroeconomy.releases.schemas import Release, ReleaseStatus


def release_of(vintage: Vintage, now: datetime) -> Release:
    """The release calendar's entry of a vintage."""
    released = vintage.released_at is not None or vintage.release_at <= now
    return Release(
        flow=vintage.flow_id,
        vintage=vintage.id,
        release_at=vintage.release_at,
        status=ReleaseStatus.RELEASED if released else ReleaseStatus.SCHEDULED,
        released_at=vintage.released_at,
        loaded_at=vintage.loaded_at,
        series_count=vintage.series_count,
        observation_count=vintage.observation_count,
        revised_count=vintage.revised_count,
    )


async def release(session: AsyncSession, vintage: Vintage, at: datetime) -> None:
    """Write the vintage's release event and a revision event per revised series; mark it released at ``at``."""
    flow = DATAFLOWS[vintage.flow_id]
    vintage.released_at = at
    record: dict[str, Any] = release_of(vintage, at).model_dump(mode="json")
    outbox.add(session, ReleasePublished(record=record))
    names = [dimension.id.lower() for dimension in flow.structure.dimensions]
    # the load counted what it revises: only then is there anything to look up
    for row in await loads.revised(session, vintage.id) if vintage.revised_count else []:
        outbox.add(
            session,
            SeriesRevised(
                record={
                    "flow": flow.id,
                    "series_key": row.key,
                    **dict(zip(names, row.dimensions, strict=True)),
                    "vintage": vintage.id,
                    "release_at": record["release_at"],
                    "time_periods": list(row.periods),
                }
            ),
        )


async def release_due(session: AsyncSession) -> list[int]:
    """Release every embargoed vintage whose time has come (claimed, so each is released once); their ids."""
    at = await loads.clock(session)
    due = await session.scalars(
        select(Vintage)
        .where(Vintage.released_at.is_(None), Vintage.release_at <= at)
        .order_by(Vintage.id)
        .with_for_update(skip_locked=True)
    )
    released = []
    for vintage in list(due):
        await release(session, vintage, at)
        released.append(vintage.id)
    await session.flush()
    return released


async def calendar(
    session: AsyncSession, flow: str | None, *, now: datetime, limit: int, cursor: str | None
) -> Slice[Release]:
    """Past and coming releases, latest vintage first, of one dataflow or all."""
    statement = select(Vintage)
    if flow is not None:
        statement = statement.where(Vintage.flow_id == flow)
    page = await paginate(session, statement, order=[Vintage.id], limit=limit, cursor=cursor, descending=True)
    return Slice(items=[release_of(vintage, now) for vintage in page.items], next_cursor=page.next_cursor)
