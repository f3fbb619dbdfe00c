"""Statistics endpoint: ``/v1/statistics``."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from onesource.exchange.dependencies import OverseerDep
from onesource.exchange.statistics import service
from onesource.exchange.statistics.schemas import Statistics
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses

router = APIRouter(prefix="/v1/statistics", tags=["statistics"])


@router.get("", responses=problem_responses(401, 403))
async def get_statistics(session: SessionDep, principal: OverseerDep) -> Statistics:
    """Per provider and consumer: requests by status, time to decision, overdue, active grants, events delivered."""
    return await service.compute(session, datetime.now(UTC))
