"""Loading the shared GB/T 2260 data (``onesource.standards.divisions``) into the registry's own table.

The data lives once, in the shared standards package (where population's and legal entities' region checks read
it too); the registry keeps a copy in its database so that its queries join and page in SQL. At start-up the copy
is compared with the data by digest and, when they differ, brought level with it in one transaction, with an event
for every code that changed: ``division.listed`` for a code new to the registry, ``division.revised`` for one whose
names or dates changed. The first load lists every code, so the topic alone tells a subscriber the whole list.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.geo.divisions import repository
from onesource.geo.divisions.events import DivisionListed, DivisionRevised
from onesource.kit import outbox
from onesource.standards.divisions import LAST_EDITION, DatedName, dated_names, division, level_of

logger = logging.getLogger(__name__)

Names = tuple[tuple[str, date | None, date | None], ...]


@dataclass(frozen=True)
class LoadReport:
    """What one load changed."""

    listed: int
    revised: int


def digest(names: Sequence[DatedName]) -> str:
    """SHA-256 over the data, row by row."""
    hashed = hashlib.sha256()
    for row in names:
        hashed.update(f"{row.code},{row.name},{row.valid_from or ''},{row.valid_to or ''}\n".encode())
    return hashed.hexdigest()


def latest_record(code: str, names: Names) -> dict[str, Any]:
    """The division's last name with its dates and its parent on its last day (an event's ``record``)."""
    name, valid_from, valid_to = names[-1]
    last_day = valid_to - timedelta(days=1) if valid_to is not None else LAST_EDITION
    then = division(code, last_day)
    return {
        "code": code,
        "name": name,
        "level": str(level_of(code)),
        "parent": then.parent if then is not None else None,
        "valid_from": valid_from.isoformat() if valid_from else None,
        "valid_to": valid_to.isoformat() if valid_to else None,
    }


def _grouped(rows: Sequence[Any]) -> dict[str, Names]:
    found: dict[str, list[tuple[str, date | None, date | None]]] = defaultdict(list)
    for row in rows:
        found[row.code].append((row.name, row.valid_from, row.valid_to))
    return {code: tuple(sorted(names, key=lambda name: name[1] or date.min)) for code, names in found.items()}


async def load(session: AsyncSession) -> LoadReport:
    """Bring the table level with the shared data, in the session's transaction, with an event per changed code."""
    await repository.lock_loading(session)
    wanted_rows = dated_names()
    wanted_digest = digest(wanted_rows)
    if await repository.loaded_digest(session) == wanted_digest:
        return LoadReport(0, 0)
    wanted = _grouped(wanted_rows)
    held = _grouped(await repository.all_names(session))
    changed = [code for code in sorted(wanted) if held.get(code) != wanted[code]]
    dropped = [code for code in sorted(held) if code not in wanted]  # the data never drops a code; kept if it did
    rows = [
        {"code": code, "name": name, "level": str(level_of(code)), "valid_from": start, "valid_to": end}
        for code in changed
        for name, start, end in wanted[code]
    ]
    await repository.replace(session, changed, rows, wanted_digest)
    listed = revised = 0
    for code in changed:
        record = latest_record(code, wanted[code])
        if code not in held:
            outbox.add(session, DivisionListed(record=record))
            listed += 1
        else:
            before = latest_record(code, held[code])
            changes = {name: value for name, value in record.items() if before.get(name) != value}
            outbox.add(session, DivisionRevised(record=record, changes=changes or {"valid_from": record["valid_from"]}))
            revised += 1
    if dropped:
        logger.warning("the division data no longer lists %d codes the registry holds; they are kept", len(dropped))
    logger.info("divisions loaded: %d listed, %d revised", listed, revised)
    return LoadReport(listed, revised)
