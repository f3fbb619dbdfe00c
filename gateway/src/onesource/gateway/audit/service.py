"""Business rules of the audit log's endpoints: who may read a record's access history, verification keys."""

from __future__ import annotations

import logging

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.gateway.audit import repository
from onesource.gateway.audit.chain import storable
from onesource.gateway.audit.errors import AccessHistoryForbidden, AuditResourceNotFound
from onesource.gateway.audit.models import ChainCheckpoint, ChainEntry
from onesource.gateway.audit.verification import ChainReport, verify_chain
from onesource.gateway.keys import crypto
from onesource.gateway.settings import Settings
from onesource.kit.auth import Principal
from onesource.kit.pagination import InvalidCursor, Slice, cut, decode_cursor

logger = logging.getLogger(__name__)


async def trusted_keys(session: AsyncSession, settings: Settings) -> dict[str, Ed25519PublicKey]:
    """The public halves of the signing keys this gateway made, derived from their sealed private halves.

    A stored ``public_jwk`` alone proves nothing: whoever can write the database could add a key of their own and
    re-sign forged checkpoints with it. Only a key that opens with the gateway's key-encryption secret is trusted.
    """
    box = crypto.signing_key_box(settings.key_encryption_secret)
    trusted: dict[str, Ed25519PublicKey] = {}
    for row in await repository.signing_keys(session):
        try:
            private = crypto.load_private_pem(box.open(row.private_key_encrypted, context=row.kid))
        except (InvalidTag, ValueError) as error:
            logger.warning("signing key %s does not open with the configured secret: %r", row.kid, error)
            continue
        trusted[row.kid] = private.public_key()
    return trusted


async def verify(session: AsyncSession, settings: Settings) -> ChainReport:
    """Recompute the chain and check its checkpoints against the keys this gateway made."""
    return await verify_chain(session, keys=await trusted_keys(session, settings))


async def ensure_may_read_history(session: AsyncSession, principal: Principal, resource: str) -> None:
    """Admins read every history; a steward only that of its own department's resources (404 for unknown ones).

    And only of a resource whose provider owns the data: the registry it names must be its provider's (per the
    catalog's registries). A resource another department published over a registry it does not own opens nothing,
    so who read that registry's records is not its provider's to see (issue 20).
    """
    if principal.has_role("admin"):
        return
    found = await repository.ownership_of(session, resource)
    if found is None:
        raise AuditResourceNotFound(f"no resource {resource!r} is in the catalog")
    provider = found.provider
    if not principal.has_role("steward") or principal.department != provider:
        raise AccessHistoryForbidden(f"only stewards of {provider!r} and admins may read who accessed {resource!r}")
    if found.service is None or found.owner != provider:
        raise AccessHistoryForbidden(
            f"resource {resource!r} does not hold data of its provider {provider!r}: registry {found.service!r} is "
            f"owned by {found.owner!r}, so who read its records is for that department's stewards and admins"
        )


#: ``seq`` is a PostgreSQL bigint.
_MAX_SEQ = 2**63 - 1


def _seq_cursor(cursor: str | None) -> int | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    if not (key.isascii() and key.isdigit() and int(key) <= _MAX_SEQ):
        raise InvalidCursor(
            "the cursor is not valid; pass the next_cursor of a previous page",
            invalid_params=[{"name": "query.cursor", "reason": "not a cursor issued by this API"}],
        )
    return int(key)


async def access_history(
    session: AsyncSession, principal: Principal, resource: str, key: str, *, limit: int, cursor: str | None
) -> Slice[ChainEntry]:
    """One page of the calls that touched record ``key`` of ``resource``, newest first."""
    resource, key = storable(resource), storable(key)  # a NUL in the URL would otherwise fail the query
    await ensure_may_read_history(session, principal, resource)
    rows = await repository.accesses(session, resource, key, before=_seq_cursor(cursor), limit=limit + 1)
    return cut(rows, limit, lambda entry: str(entry.seq))


async def checkpoints(session: AsyncSession, *, limit: int, cursor: str | None) -> Slice[ChainCheckpoint]:
    """One page of signed checkpoints, newest first."""
    rows = await repository.checkpoint_page(session, before=_seq_cursor(cursor), limit=limit + 1)
    return cut(rows, limit, lambda checkpoint: str(checkpoint.seq))
