"""Events of parcels, on ``onesource.geo.parcel.v1``, keyed by parcel code.

Each carries the whole record after the change in ``record``: the feature's properties, flat, and ``geometry`` as
GeoJSON — so the exchange masks it like any record, ``geometry`` being one more field.
"""

from __future__ import annotations

from typing import ClassVar

from onesource.registry.events import RecordChanged, RecordEvent, RecordRegistered

PARCEL_TOPIC = "onesource.geo.parcel.v1"
SOURCE = "/onesource/geo"


class _ParcelEvent(RecordEvent):
    topic: ClassVar[str] = PARCEL_TOPIC
    source: ClassVar[str] = SOURCE
    key_field: ClassVar[str] = "parcel_code"


class ParcelRegistered(_ParcelEvent, RecordRegistered):
    """A parcel was registered."""

    event_type: ClassVar[str] = "gov.onesource.geo.parcel.registered.v1"


class ParcelUpdated(_ParcelEvent, RecordChanged):
    """Fields or the boundary of a parcel changed (a new boundary comes with its new area)."""

    event_type: ClassVar[str] = "gov.onesource.geo.parcel.updated.v1"


class ParcelRetired(_ParcelEvent, RecordChanged):
    """A parcel was retired (注销)."""

    event_type: ClassVar[str] = "gov.onesource.geo.parcel.retired.v1"
