"""Every SQL statement of the findings report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.legal_entity.models import Entity, RepresentativeDeath


async def represents_any(session: AsyncSession, id_number: str) -> bool:
    """Whether ``id_number`` is the legal representative of some entity."""
    return bool(await session.scalar(select(exists().where(Entity.legal_representative_id == id_number))))


async def record_death(session: AsyncSession, id_number: str, *, reported_at: datetime, event_id: str) -> None:
    """Keep that ``id_number`` died (the first report is kept; a death is not reported twice differently)."""
    await session.execute(
        insert(RepresentativeDeath)
        .values(id_number=id_number, reported_at=reported_at, event_id=event_id)
        .on_conflict_do_nothing(index_elements=[RepresentativeDeath.id_number])
    )


def deceased_representatives(statuses: list[str] | None) -> Select[Any]:
    """Entities whose legal representative died, with when it was reported (in ``statuses`` when given)."""
    statement = select(
        Entity.uscc,
        Entity.name,
        Entity.status,
        Entity.legal_representative_id,
        RepresentativeDeath.reported_at,
        RepresentativeDeath.noticed_at,
    ).join(RepresentativeDeath, RepresentativeDeath.id_number == Entity.legal_representative_id)
    if statuses is not None:
        statement = statement.where(Entity.status.in_(statuses))
    return statement
