"""API shapes of the audit log."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ChainProblem(BaseModel):
    """One thing wrong with the chain."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    seq: int | None
    """The first entry (or checkpoint) concerned; ``null`` when it concerns the head row itself."""
    kind: str
    """``hash-mismatch`` (changed), ``missing`` (deleted), ``broken-link`` (reordered, inserted or rewritten),
    ``truncated``, ``head-mismatch``, ``head-missing``, ``beyond-head``, ``checkpoint-mismatch``,
    ``checkpoint-signature``, ``checkpoint-unknown-key`` or ``checkpoint-beyond-head``."""
    detail: str
    """What was found."""


class ChainVerification(BaseModel):
    """The outcome of recomputing the audit chain."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    ok: bool
    """Whether the chain is intact: no problem at all."""
    entries: int
    """Entries checked."""
    head_seq: int
    """The head's sequence number when verification began."""
    head_hash: str
    """The head's hash (SHA-256, hex)."""
    checkpoints: int
    """Signed checkpoints whose signature verified and whose hash matched the chain."""
    problems: list[ChainProblem]
    """The first problems found (at most 100)."""


class RecordAccess(BaseModel):
    """One data call that touched a record."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    seq: int
    """The entry's position in the audit chain."""
    time: datetime
    """When the call arrived."""
    client_id: str | None
    """The calling client system."""
    department: str | None
    """The department the client acted for."""
    purpose: str | None
    """The purpose it stated (``X-OneSource-Purpose``)."""
    fields: list[str]
    """The fields it was given."""
    method: str
    """HTTP method."""
    path: str
    """The gateway path it called, with its query string."""
    status: int
    """The status it got."""
    grant_ids: list[str]
    """The grants that allowed the answer."""
    request_id: str
    """The call's ``X-Request-Id``."""


class Checkpoint(BaseModel):
    """A signed statement of the chain's hash at one entry (compact JWS, EdDSA; verify it with the JWKS)."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    seq: int
    """The entry whose hash is signed."""
    hash: str
    """That entry's hash (SHA-256, hex)."""
    time: datetime
    """When it was signed."""
    kid: str
    """The signing key (a ``kid`` of ``/.well-known/jwks.json`` while the key is published)."""
    signature: str
    """Compact JWS; its payload is ``{"hash", "iss", "seq", "time"}`` (RFC 8785 JSON)."""


class PartyCalls(BaseModel):
    """One department's data calls through the gateway in a period."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    department: str
    """The department's code."""
    calls: int
    """Data calls: calls that named a catalog resource (as consumer: made; as provider: on its resources)."""
    answered: int
    """Of those, the ones answered with data (status below 400); the rest were refused or failed."""


class CallStatistics(BaseModel):
    """Data calls per consumer and per provider in ``[since, until)``, counted from the audit log."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    since: datetime
    """Start of the period (inclusive)."""
    until: datetime
    """End of the period (exclusive)."""
    consumers: list[PartyCalls]
    """Per calling department."""
    providers: list[PartyCalls]
    """Per department providing the resources called (a call naming two providers' resources counts for each)."""
