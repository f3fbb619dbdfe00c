"""Failed-login throttling at the token endpoint: guessing secrets gets slower with every miss.

Failures are counted per (client id, caller address) pair, and — with a separate, higher ceiling — per address (so
spraying guesses over many client ids is slowed too). Never per client id alone: then anyone could lock a known
client out by guessing wrong five times, and failures for one id never block another id from another address.
After its threshold of failures a key is locked for ``base_lock_seconds``, doubling with each further failure up to
``max_lock_seconds``; while locked, even the right secret is refused (otherwise a guesser learns when it has hit).
A success clears the pair's count, not the address's (a guesser holding one good secret cannot reset its spray).
The counts live in this process's memory: with N gateway processes behind a balancer a guesser gets at most N
times the attempts, which still bounds guessing to a handful per minute per process. The address is the caller's
as :mod:`onesource.gateway.addresses` finds it (``X-Forwarded-For`` only from a configured trusted proxy).
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI


@dataclass(slots=True)
class _Failures:
    count: int
    locked_until: float


class LoginThrottle:
    """Counts failed client authentications and says how long a key must wait."""

    #: Keys forgotten once idle this long (bounds memory under a spray of random client ids).
    IDLE_SECONDS = 3600.0
    MAX_KEYS = 100_000

    def __init__(
        self,
        *,
        threshold: int = 5,
        address_threshold: int = 50,
        base_lock_seconds: float = 1.0,
        max_lock_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.address_threshold = address_threshold
        self.base_lock_seconds = base_lock_seconds
        self.max_lock_seconds = max_lock_seconds
        self._clock = clock
        self._failures: dict[str, _Failures] = {}

    @staticmethod
    def keys(client_id: str, address: str) -> tuple[str, str]:
        """The keys a login attempt counts against: its (client id, address) pair, and its address."""
        return f"pair:{address}\x1f{client_id}", f"address:{address}"

    def retry_after(self, *keys: str) -> int:
        """Whole seconds until every one of ``keys`` may try again (0: it may try now)."""
        now = self._clock()
        wait = max((self._failures[key].locked_until - now for key in keys if key in self._failures), default=0.0)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        """Count one failed attempt against each of ``keys``."""
        now = self._clock()
        if len(self._failures) >= self.MAX_KEYS:
            self._forget_idle(now)
        for key in keys:
            failures = self._failures.setdefault(key, _Failures(0, 0.0))
            failures.count += 1
            excess = failures.count - (self.address_threshold if key.startswith("address:") else self.threshold)
            if excess >= 0:
                lock = min(self.base_lock_seconds * 2**excess, self.max_lock_seconds)
                failures.locked_until = now + lock

    def succeeded(self, key: str) -> None:
        """Clear ``key``'s failures after a successful authentication."""
        self._failures.pop(key, None)

    def _forget_idle(self, now: float) -> None:
        idle = [key for key, failures in self._failures.items() if failures.locked_until + self.IDLE_SECONDS < now]
        for key in idle:
            del self._failures[key]
        if len(self._failures) >= self.MAX_KEYS:  # a spray faster than keys go idle: keep the most locked
            keep = sorted(self._failures.items(), key=lambda item: item[1].locked_until)[-self.MAX_KEYS // 2 :]
            self._failures = dict(keep)


@asynccontextmanager
async def login_throttle(app: FastAPI) -> AsyncIterator[None]:
    """Kit extension: the token endpoint's throttle on ``app.state.login_throttle``, from the settings."""
    settings = app.state.settings
    app.state.login_throttle = LoginThrottle(
        threshold=settings.login_failure_threshold,
        address_threshold=settings.login_address_failure_threshold,
        base_lock_seconds=settings.login_lock_seconds,
        max_lock_seconds=settings.login_max_lock_seconds,
    )
    yield
