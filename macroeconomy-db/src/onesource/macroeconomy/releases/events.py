"""Events of the release calendar, written with the release (outbox), once per vintage.

``release.published`` on ``onesource.macroeconomy.release.v1`` (keyed by dataflow): a vintage's observations reach
everyone. ``series.revised`` on ``onesource.macroeconomy.revision.v1`` (keyed by ``<flow>:<series key>``): that
release revised values of the series. Both carry the record as the catalog fields name it (``registry.events``), so
the exchange masks them to a grant like any record event: a revision's dimension values (``ref_area`` …) are
fields of the dataflow's resource, and its row scope applies to them.
"""

from __future__ import annotations

from typing import ClassVar

from onesource.registry.events import RecordEvent

RELEASE_TOPIC = "onesource.macroeconomy.release.v1"
REVISION_TOPIC = "onesource.macroeconomy.revision.v1"
SOURCE = "/onesource/macroeconomy"


class ReleasePublished(RecordEvent):
    """A vintage was released: its observations reach every department with a grant on the dataflow."""

    topic: ClassVar[str] = RELEASE_TOPIC
    source: ClassVar[str] = SOURCE
    key_field: ClassVar[str] = "flow"
    event_type: ClassVar[str] = "gov.onesource.macroeconomy.release.published.v1"


class SeriesRevised(RecordEvent):
    """A released vintage revised observations of a series (``time_periods``: which)."""

    topic: ClassVar[str] = REVISION_TOPIC
    source: ClassVar[str] = SOURCE
    key_field: ClassVar[str] = "series_key"
    event_type: ClassVar[str] = "gov.onesource.macroeconomy.series.revised.v1"

    def subject(self) -> str:
        """``<flow>:<series key>``: a key is unique within its dataflow only."""
        return f"{self.record['flow']}:{self.record['series_key']}"
