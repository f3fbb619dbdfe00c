"""What the gateway records about one data call, and the one operation the forwarding path needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One data call, as the gateway answered it (refusals included)."""

    time: datetime
    """When the call arrived (timezone-aware UTC)."""
    request_id: str
    """The call's ``X-Request-Id``."""
    client_id: str | None
    """The calling client (``None`` when the token was missing or invalid)."""
    department: str | None
    """The department the client acts for."""
    purpose: str | None
    """``X-OneSource-Purpose`` as sent."""
    method: str
    path: str
    """The gateway path, with its query string (``/api/population/v1/persons/…?…``)."""
    status: int
    """The status the caller got."""
    latency_ms: float
    """From arrival to the answer being ready (before the audit commit)."""
    request_hash: str
    """SHA-256 hex over method, path with query, purpose and body."""
    resources: Sequence[str] = field(default_factory=tuple)
    """The catalog resources covering the path."""
    grant_ids: Sequence[str] = field(default_factory=tuple)
    """The grants that allowed the answer (empty for owners and refusals)."""
    record_keys: Sequence[str] = field(default_factory=tuple)
    """Keys of the records returned (or asked for, on refusals)."""
    fields: Sequence[str] = field(default_factory=tuple)
    """The fields returned."""


class AuditRecorder(Protocol):
    """Records entries durably; ``app.state.audit`` is one."""

    async def record(self, entry: AuditEntry) -> None:
        """Return once ``entry`` is committed to the chain; raise ``AuditUnavailable`` (503) when it cannot be."""
