"""The cyclic garbage collector held off while large acyclic structures are built (blocks, large answers).

A block of an import or a load, or the answer of a large query, is lists of a hundred thousand strings and numbers,
which reference counting frees; allocating them sets the collector off many times over, each time walking them again
(a third of a load's check, a tenth of a 40,000-observation query's time, measured). Between them it runs as before.
"""

from __future__ import annotations

import gc
import threading


class CollectorPause:
    """Holds the cyclic garbage collector off within ``with`` (entered by one thread or task or several at once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._resume = False

    def __enter__(self) -> None:
        with self._lock:
            if not self._holders:
                self._resume = gc.isenabled()
                gc.disable()
            self._holders += 1

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._holders -= 1
            if not self._holders and self._resume:
                gc.enable()


COLLECTOR_PAUSE = CollectorPause()
"""The process's one pause (nested and concurrent holders share it)."""
