"""Events of the division list, on ``onesource.geo.division.v1``, keyed by division code.

The registry loads the shared GB/T 2260 data (``onesource.standards.divisions``) at start-up; what a load changes
is published: a code new to the registry is ``listed``, a code whose names or dates changed is ``revised``. Each
carries the division's latest state (the last name it had, with its dates) in ``record``.
"""

from __future__ import annotations

from typing import ClassVar

from onesource.registry.events import RecordChanged, RecordEvent, RecordRegistered

DIVISION_TOPIC = "onesource.geo.division.v1"
SOURCE = "/onesource/geo"


class _DivisionEvent(RecordEvent):
    topic: ClassVar[str] = DIVISION_TOPIC
    source: ClassVar[str] = SOURCE
    key_field: ClassVar[str] = "code"


class DivisionListed(_DivisionEvent, RecordRegistered):
    """A division code was listed (created, or first loaded by the registry)."""

    event_type: ClassVar[str] = "gov.onesource.geo.division.listed.v1"


class DivisionRevised(_DivisionEvent, RecordChanged):
    """A division's names or dates changed: renamed, abolished, or a date corrected."""

    event_type: ClassVar[str] = "gov.onesource.geo.division.revised.v1"
