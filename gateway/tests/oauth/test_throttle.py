"""Failed-login throttling: repeated wrong secrets make the client (and the address) wait."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from onesource.gateway.oauth.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def strict_throttle(gateway_app) -> Iterator[LoginThrottle]:
    """A throttle with a low threshold, in place of the app's for this test only."""
    original = gateway_app.state.login_throttle
    throttle = LoginThrottle(threshold=3, base_lock_seconds=2.0, max_lock_seconds=60.0)
    gateway_app.state.login_throttle = throttle
    yield throttle
    gateway_app.state.login_throttle = original


async def test_wrong_secrets_lock_the_client_even_for_the_right_one(identity, strict_throttle) -> None:
    await identity.department("civil-affairs", "000014301")
    secret = (await identity.client("civil-affairs", ["consumer"], client_id="guessed-at"))["client_secret"]

    for _ in range(3):
        assert (await identity.token("guessed-at", "wrong")).status_code == 401
    locked = await identity.token("guessed-at", secret)

    assert locked.status_code == 429
    assert locked.json()["error"] == "slow_down"
    assert int(locked.headers["retry-after"]) >= 1
    assert locked.headers["cache-control"] == "no-store"


async def test_a_success_before_the_threshold_clears_the_count(identity, strict_throttle) -> None:
    await identity.department("civil-affairs", "000014301")
    secret = (await identity.client("civil-affairs", ["consumer"], client_id="typo-prone"))["client_secret"]
    for _ in range(2):
        assert (await identity.token("typo-prone", "wrong")).status_code == 401
    assert (await identity.token("typo-prone", secret)).status_code == 200
    for _ in range(2):
        assert (await identity.token("typo-prone", "wrong")).status_code == 401
    assert (await identity.token("typo-prone", secret)).status_code == 200


def test_waits_double_up_to_the_maximum_and_pass() -> None:
    clock = Clock()
    throttle = LoginThrottle(threshold=2, base_lock_seconds=1.0, max_lock_seconds=8.0, clock=clock)
    throttle.failed("k")
    assert throttle.retry_after("k") == 0
    waits = []
    for _ in range(6):
        throttle.failed("k")
        waits.append(throttle.retry_after("k"))
    assert waits == [1, 2, 4, 8, 8, 8]
    clock.now += 8.5
    assert throttle.retry_after("k") == 0
    assert throttle.retry_after("other") == 0


def test_spraying_over_client_ids_locks_the_address() -> None:
    clock = Clock()
    throttle = LoginThrottle(threshold=3, clock=clock)
    for number in range(3):
        throttle.failed(f"client:c{number}", "address:10.0.0.9")
    assert throttle.retry_after("client:fresh", "address:10.0.0.9") >= 1
    assert throttle.retry_after("client:fresh", "address:10.0.0.10") == 0
