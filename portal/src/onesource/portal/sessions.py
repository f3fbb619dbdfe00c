"""Sessions kept in an encrypted cookie: the portal stores nothing of its own, not even its sessions' tokens.

The cookie holds the person's tokens and who they are, sealed with AES-256-GCM under a key derived from the session
secret (HKDF-SHA256), so the browser can neither read nor alter it. It is ``HttpOnly`` (no script reads it) and
``SameSite=Lax`` (other sites' forms do not carry it; the sign-in callback, a top-level navigation, does), and every
form also carries the session's CSRF token. The sign-in in progress (state, PKCE verifier, nonce) is sealed the same
way in a second, short-lived cookie.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SESSION_COOKIE = "onesource_session"
LOGIN_COOKIE = "onesource_login"


@dataclass
class Session:
    """A signed-in person: the gateway's tokens and who the ID token says the person is."""

    access_token: str
    refresh_token: str
    access_expires_at: float
    username: str
    name: str
    department: str
    roles: list[str]
    expires_at: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def has_role(self, *roles: str) -> bool:
        """Whether the person holds any of ``roles``."""
        return any(role in self.roles for role in roles)


@dataclass(frozen=True)
class PendingLogin:
    """A sign-in on its way through the gateway's login page."""

    state: str
    verifier: str
    nonce: str
    next_path: str
    started_at: float


class Sealer:
    """Seals and opens cookie values (AES-256-GCM, random 96-bit nonce, purpose bound as associated data)."""

    def __init__(self, secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"onesource-portal-session").derive(
            secret.encode()
        )
        self._aead = AESGCM(key)

    def seal(self, purpose: str, value: dict[str, Any]) -> str:
        """The cookie value for ``value``."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, json.dumps(value, separators=(",", ":")).encode(), purpose.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, purpose: str, cookie: str | None) -> dict[str, Any] | None:
        """The value sealed in ``cookie``, or ``None`` when it is missing, altered or sealed for another purpose."""
        if not cookie:
            return None
        try:
            raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
            opened = self._aead.decrypt(raw[:12], raw[12:], purpose.encode())
            value = json.loads(opened)
        except (ValueError, InvalidTag):
            return None
        return value if isinstance(value, dict) else None

    def seal_session(self, session: Session) -> str:
        """The session cookie's value."""
        return self.seal(SESSION_COOKIE, asdict(session))

    def open_session(self, cookie: str | None) -> Session | None:
        """The session in ``cookie`` unless it is unreadable or over."""
        value = self.open(SESSION_COOKIE, cookie)
        if value is None:
            return None
        try:
            session = Session(**value)
        except TypeError:
            return None
        return session if session.expires_at > time.time() else None

    def seal_login(self, login: PendingLogin) -> str:
        """The sign-in cookie's value."""
        return self.seal(LOGIN_COOKIE, asdict(login))

    def open_login(self, cookie: str | None, *, max_age: float) -> PendingLogin | None:
        """The sign-in in ``cookie`` unless it is unreadable or older than ``max_age`` seconds."""
        value = self.open(LOGIN_COOKIE, cookie)
        if value is None:
            return None
        try:
            login = PendingLogin(**value)
        except TypeError:
            return None
        return login if time.time() - login.started_at < max_age else None
