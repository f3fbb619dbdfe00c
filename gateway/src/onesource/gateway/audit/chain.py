"""The chain's canonical serialisation and hash — the one definition the writer and every verifier share.

An entry's **body** is the RFC 8785 (JSON Canonicalization Scheme) serialisation of this object::

    {"client_id": str|null, "department": str|null, "fields": [str], "grant_ids": [str], "latency_us": int,
     "method": str, "path": str, "purpose": str|null, "record_keys": [str], "request_hash": str,
     "request_id": str, "resources": [str], "status": int, "time": "YYYY-MM-DDTHH:MM:SS.ffffffZ"}

(keys sorted, no whitespace, UTF-8, arrays in recorded order, ``time`` in UTC with exactly six fractional digits,
``latency_us`` the latency in whole microseconds). It holds only strings, nulls, integers below 2**53 and arrays
of strings, so ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` is exactly JCS.

Entry ``seq``'s hash is the lower-case hex SHA-256 of the UTF-8 bytes of::

    "onesource-audit/v1" LF prev_hash LF decimal(seq) LF body

where ``prev_hash`` is the hash of entry ``seq - 1`` (64 zeros for entry 1). The sequence number is inside the
hash, so an entry moved to another position no longer verifies; the previous hash is inside it, so every entry
vouches for all before it. Putting ``seq`` and ``prev_hash`` before the body (rather than inside it) lets a caller
serialise its entry before it knows its place in the chain: the writer only hashes under the head lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from onesource.gateway.audit.entry import AuditEntry
from onesource.gateway.audit.models import GENESIS_HASH

__all__ = [
    "GENESIS_HASH",
    "HASH_DOMAIN",
    "body_of_entry",
    "body_of_row",
    "canonical",
    "entry_hash",
    "storable",
    "timestamp",
]

#: Domain separation and format version of the hashed message.
HASH_DOMAIN = "onesource-audit/v1"

#: The body's keys: the columns of ``audit_entry`` that an entry's hash covers.
BODY_FIELDS = (
    "client_id",
    "department",
    "fields",
    "grant_ids",
    "latency_us",
    "method",
    "path",
    "purpose",
    "record_keys",
    "request_hash",
    "request_id",
    "resources",
    "status",
    "time",
)

_MAX_STATUS = 999


def timestamp(moment: datetime) -> str:
    """``moment`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (a naive ``moment`` is taken to be UTC)."""
    utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    if utc.year < 1000:  # ``isoformat`` would not pad the year as strftime's %Y does here
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def storable(value: str) -> str:
    """``value`` as ``audit_entry`` stores it (lookups normalise the same way, so they find what was stored)."""
    # PostgreSQL text cannot hold NUL and UTF-8 cannot hold lone surrogates; one such value would fail the whole
    # batch it is committed with, so it is recorded with U+FFFD / "?" in their place instead.
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _optionalstorable(value: str | None) -> str | None:
    return None if value is None else storable(value)


def _texts(values: Sequence[str]) -> list[str]:
    if isinstance(values, str):  # a bare string is a Sequence[str] too; recording its letters would be a bug
        raise TypeError("expected a sequence of strings, got a string")
    return [storable(value) for value in values]


def canonical(body: Mapping[str, Any]) -> str:
    """The RFC 8785 serialisation of ``body`` (see the module docstring for why ``json.dumps`` is exact here)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def body_of_entry(entry: AuditEntry) -> dict[str, Any]:
    """The body of ``entry``, normalised to what ``audit_entry`` stores."""
    if not 0 <= entry.status <= _MAX_STATUS:
        raise ValueError(f"status {entry.status} is not an HTTP status code")
    return {
        "client_id": _optionalstorable(entry.client_id),
        "department": _optionalstorable(entry.department),
        "fields": _texts(entry.fields),
        "grant_ids": _texts(entry.grant_ids),
        "latency_us": max(0, round(entry.latency_ms * 1000)),
        "method": storable(entry.method),
        "path": storable(entry.path),
        "purpose": _optionalstorable(entry.purpose),
        "record_keys": _texts(entry.record_keys),
        "request_hash": storable(entry.request_hash),
        "request_id": storable(entry.request_id),
        "resources": _texts(entry.resources),
        "status": entry.status,
        "time": timestamp(entry.time),
    }


def body_of_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a stored ``audit_entry`` row (as read back from the database)."""
    body = {name: row[name] for name in BODY_FIELDS}
    body["time"] = timestamp(row["time"])
    for name in ("fields", "grant_ids", "record_keys", "resources"):
        body[name] = list(body[name])
    return body


def entry_hash(seq: int, prev_hash: str, body: str) -> str:
    """The hash of entry ``seq`` whose canonical body is ``body`` and whose predecessor's hash is ``prev_hash``."""
    message = f"{HASH_DOMAIN}\n{prev_hash}\n{seq}\n{body}"
    return hashlib.sha256(message.encode("utf-8")).hexdigest()
