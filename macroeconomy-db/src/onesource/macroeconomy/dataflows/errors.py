"""Errors of dataflows."""

from __future__ import annotations

from onesource.kit.errors import NotFound


class DataflowNotFound(NotFound):
    """No dataflow has this id (404)."""

    type = "dataflow-not-found"
    title = "Dataflow not found"
