"""Failed-login throttling: repeated wrong secrets make the client (and the address) wait."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_network
from typing import Any

import pytest

from onesource.gateway.addresses import caller_address
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
    throttle = LoginThrottle(threshold=3, address_threshold=100, base_lock_seconds=2.0, max_lock_seconds=60.0)
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


def test_spraying_over_client_ids_locks_the_address_at_its_own_higher_ceiling() -> None:
    clock = Clock()
    throttle = LoginThrottle(threshold=3, address_threshold=5, clock=clock)
    for number in range(5):
        throttle.failed(*throttle.keys(f"c{number}", "10.0.0.9"))
    assert all(throttle.retry_after(*throttle.keys(f"c{number}", "10.0.0.9")) >= 1 for number in range(5))
    assert throttle.retry_after(*throttle.keys("fresh", "10.0.0.9")) >= 1
    assert throttle.retry_after(*throttle.keys("fresh", "10.0.0.10")) == 0
    assert throttle.retry_after(*throttle.keys("c0", "10.0.0.10")) == 0


def test_failures_for_one_id_never_block_another_nor_the_same_id_elsewhere() -> None:
    clock = Clock()
    throttle = LoginThrottle(threshold=3, address_threshold=50, clock=clock)
    for _ in range(10):
        throttle.failed(*throttle.keys("known-client", "203.0.113.5"))
    assert throttle.retry_after(*throttle.keys("known-client", "203.0.113.5")) >= 1
    assert throttle.retry_after(*throttle.keys("other-client", "203.0.113.5")) == 0
    assert throttle.retry_after(*throttle.keys("known-client", "198.51.100.7")) == 0


@pytest.fixture
def behind_proxy(gateway_app) -> Iterator[None]:
    """The app's settings with the test transport's address (127.0.0.1) as a trusted reverse proxy."""
    original = gateway_app.state.settings
    gateway_app.state.settings = original.model_copy(update={"trusted_proxies": [ip_network("127.0.0.1/32")]})
    yield
    gateway_app.state.settings = original


async def test_a_guesser_cannot_lock_a_client_out_for_everyone(client, identity, strict_throttle, behind_proxy) -> None:
    # Issue 20 §4: five bad secrets locked a known client id for every address.
    await identity.department("civil-affairs", "000014301")
    secret = (await identity.client("civil-affairs", ["consumer"], client_id="well-known"))["client_secret"]
    other = (await identity.client("civil-affairs", ["consumer"], client_id="next-door"))["client_secret"]
    attacker = {"X-Forwarded-For": "203.0.113.5"}
    for _ in range(5):
        wrong = await _token(client, "well-known", "wrong", attacker)
        assert wrong.status_code in {401, 429}
    assert (await _token(client, "well-known", secret, attacker)).status_code == 429
    assert (await _token(client, "next-door", other, attacker)).status_code == 200, "another id from there"
    owner = {"X-Forwarded-For": "198.51.100.7"}
    assert (await _token(client, "well-known", secret, owner)).status_code == 200, "the same id from elsewhere"


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(client, identity, strict_throttle) -> None:
    await identity.department("civil-affairs", "000014301")
    secret = (await identity.client("civil-affairs", ["consumer"], client_id="spoofed-at"))["client_secret"]
    for number in range(3):  # each guess claims another address; the peer is not a trusted proxy
        spoofed = {"X-Forwarded-For": f"192.0.2.{number}"}
        assert (await _token(client, "spoofed-at", "wrong", spoofed)).status_code == 401
    assert (await _token(client, "spoofed-at", secret, {"X-Forwarded-For": "192.0.2.99"})).status_code == 429


async def _token(client, client_id: str, secret: str, headers: dict[str, str]):
    return await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        headers=headers,
    )


def test_the_callers_address_comes_from_a_trusted_proxy_only() -> None:
    proxies = [ip_network("10.0.0.0/8")]

    def scope(peer: str, *forwarded: str) -> dict[str, Any]:
        headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
        return {"type": "http", "client": (peer, 1234), "headers": headers}

    assert caller_address(scope("203.0.113.5", "1.2.3.4"), proxies) == "203.0.113.5"  # not a proxy: header ignored
    assert caller_address(scope("10.0.0.2", "1.2.3.4, 198.51.100.7"), proxies) == "198.51.100.7"  # right-most
    assert caller_address(scope("10.0.0.2", "198.51.100.7, 10.0.0.3"), proxies) == "198.51.100.7"  # past proxies
    assert caller_address(scope("10.0.0.2", "1.2.3.4", "198.51.100.7"), proxies) == "198.51.100.7"
    assert caller_address(scope("10.0.0.2", "not-an-address"), proxies) == "10.0.0.2"
    assert caller_address(scope("10.0.0.2"), proxies) == "10.0.0.2"
    assert caller_address(scope("203.0.113.5", "1.2.3.4"), []) == "203.0.113.5"
