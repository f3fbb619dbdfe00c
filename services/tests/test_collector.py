"""The collector's pause: held off within, restored after (errors too), and shared by nested and concurrent holders."""

from __future__ import annotations

import gc
import threading

import pytest

from onesource.kit.collector import CollectorPause


def test_the_collector_is_held_off_within_and_runs_again_after() -> None:
    pause = CollectorPause()
    assert gc.isenabled()
    with pause:
        assert not gc.isenabled()
        with pause:  # nested: the inner exit must not resume it early
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_within_still_resumes_it() -> None:
    pause = CollectorPause()
    with pytest.raises(RuntimeError), pause:
        raise RuntimeError("refused")
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    pause = CollectorPause()
    gc.disable()
    try:
        with pause:
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_last_of_concurrent_holders_resumes_it() -> None:
    pause = CollectorPause()
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with pause:
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    entered.wait(10)
    with pause:
        pass
    assert not gc.isenabled()  # the thread still holds it
    release.set()
    holder.join(10)
    assert gc.isenabled()
