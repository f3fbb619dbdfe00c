"""The read models are fed like the forwarding tests feed them: real events on the broker."""

from __future__ import annotations

from ..forwarding.conftest import broker, caught_up  # noqa: F401  (fixtures, shared)
