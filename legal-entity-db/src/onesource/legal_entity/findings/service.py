"""The findings report: entities whose legal representative died, learnt from population's change events.

The registry keeps no copy of persons. It takes population-db's change events as its department's subscription
delivers them (masked to its grant on ``population.person``: the base items, ``deceased`` among them), and keeps only
that a person who represents an entity died, and when. The report is a query over the entities as they stand, so an
entity drops out of it as soon as its representative is changed.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit.events import CloudEvent
from onesource.kit.pagination import Slice, paginate
from onesource.legal_entity.entities.rules import FINAL, EntityStatus
from onesource.legal_entity.findings import repository
from onesource.legal_entity.findings.schemas import Finding
from onesource.legal_entity.models import Entity

logger = logging.getLogger(__name__)


async def handle_person_event(session: AsyncSession, event: CloudEvent) -> None:
    """Take one delivered person event: a representative's death becomes a finding (others are ignored)."""
    record = event.data.get("record")
    if not isinstance(record, dict) or record.get("deceased") is not True:
        return
    if not await repository.represents_any(session, event.subject):
        return
    await repository.record_death(session, event.subject, reported_at=event.time, event_id=event.id)
    logger.info("the legal representative %s*** is reported deceased (event %s)", event.subject[:6], event.id)


async def page(session: AsyncSession, *, include_closed: bool, limit: int, cursor: str | None) -> Slice[Finding]:
    """One page of findings in USCC order; entities deregistered, cancelled or moved out with ``include_closed``."""
    statuses = None if include_closed else [status.value for status in EntityStatus if status not in FINAL]
    found = await paginate(
        session,
        repository.deceased_representatives(statuses),
        order=[Entity.uscc],
        limit=limit,
        cursor=cursor,
        rows=True,
    )
    return Slice(items=[Finding.model_validate(row._mapping) for row in found.items], next_cursor=found.next_cursor)
