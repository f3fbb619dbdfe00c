"""Sealed page cursors: a non-owner never sees the registry's own cursor, which may name a record it may not see.

A registry's cursor points after the last record of a page (population-db's is that record's key, base64-encoded).
When that record is outside the caller's row scope it is dropped from the page, but its key would still travel in
``next_cursor``. So a non-owner gets the cursor sealed (AES-256-GCM under a key derived from the gateway's
``key_encryption_secret``, bound to the department, service and path it was issued for), and the gateway opens it
again when it comes back as ``?cursor=``. Every gateway process derives the same key, so any of them opens it.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, urlencode

from cryptography.exceptions import InvalidTag
from pydantic import SecretStr

from onesource.gateway.keys.crypto import SecretBox
from onesource.kit.pagination import InvalidCursor


class CursorSeal:
    """Seals and opens registry cursors for one department, service and path."""

    def __init__(self, secret: SecretStr) -> None:
        self._box = SecretBox(secret, "forwarding-cursor/v1")

    @staticmethod
    def _context(department: str, service: str, path: str) -> str:
        return f"{department}\x1f{service}\x1f{path}"

    def seal(self, cursor: str, *, department: str, service: str, path: str) -> str:
        """The cursor as the caller gets it."""
        sealed = self._box.seal(cursor.encode(), context=self._context(department, service, path))
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open(self, sealed: str, *, department: str, service: str, path: str) -> str:
        """The registry's cursor; :class:`InvalidCursor` (422) unless the gateway sealed it for this very list."""
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
            return self._box.open(raw, context=self._context(department, service, path)).decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise InvalidCursor(
                "the cursor is not valid; pass the next_cursor of a previous page",
                invalid_params=[{"name": "query.cursor", "reason": "not a cursor issued by the gateway for this list"}],
            ) from None

    def open_query(self, query: str, *, department: str, service: str, path: str) -> str:
        """``query`` with every ``cursor`` parameter opened (unchanged when it has none)."""
        pairs = parse_qsl(query, keep_blank_values=True)
        if not any(name == "cursor" for name, _ in pairs):
            return query
        opened = [
            (name, self.open(value, department=department, service=service, path=path) if name == "cursor" else value)
            for name, value in pairs
        ]
        return urlencode(opened)
